import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { roundRobinSql } from '../rules/assignment';
import { contactKey, CrmChangesRepository } from './changes.repository';
import { LoyaltyRepository } from './loyalty.repository';

export interface CustomerAddress {
  country?: string;
  region?: string;
  city?: string;
  postalCode?: string;
  line1?: string;
  line2?: string;
}

/** One revision of a site's personal account, phones and emails already normalized (invalid ones dropped). */
export interface SiteCustomerRevision {
  peerId: string;
  siteCustomerId: string;
  version: number;
  /** undefined: leave as it is; null: clear. */
  name?: string | null;
  phones: string[];
  emails: string[];
  birthday?: string | null;
  address?: CustomerAddress | null;
  consents?: Record<string, boolean>;
}

export type SiteCustomerOutcome = 'created' | 'linked' | 'updated' | 'stale';

/** The fields the CRM shares with a site account: an operator's edit of them goes back as crm.contact.updated. */
export interface ContactEdit {
  name?: string | null;
  /** Replace the card's phones / emails (normalized). */
  phones?: string[];
  emails?: string[];
  birthday?: string | null;
  address?: CustomerAddress | null;
}

export const CONTACT_SHARED_FIELDS = ['name', 'phones', 'emails', 'birthday', 'address'] as const;

interface ContactFields {
  name: string | null;
  phones: string[];
  emails: string[];
  birthday: string | null;
  address: CustomerAddress | null;
}

/** Outcome of an operator edit: the card's shared fields after it, or what stopped it. */
export type ContactEditResult =
  | { status: 'ok'; contact: ContactFields & { id: string }; changed: string[] }
  | { status: 'not_found' }
  | { status: 'identity_taken'; identities: string[] };

/** JSON with sorted keys: jsonb hands an address back in its own key order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );

const FIELDS_SQL = `id, name, phones, emails, to_char(birthday, 'YYYY-MM-DD') AS birthday, address`;

/**
 * Personal accounts of sites linked to cards, and operator edits of the fields they share. A site's revision is
 * applied without an outbox row (the change came from the site: echoing it back would loop); an operator's edit
 * of the same fields records crm.contact.updated in its transaction.
 */
@Injectable()
export class CustomersRepository {
  constructor(
    private readonly changes: CrmChangesRepository,
    private readonly loyalty: LoyaltyRepository,
  ) {}

  /** Advisory-lock keys a revision needs: the account and every identity it may match or attach. */
  lockKeys(r: Pick<SiteCustomerRevision, 'peerId' | 'siteCustomerId' | 'phones' | 'emails'>): string[] {
    return [
      `site-customer:${r.peerId}:${r.siteCustomerId}`,
      ...r.phones.map((p) => `phone:${p}`),
      ...r.emails.map((e) => `email:${e}`),
    ];
  }

  /**
   * Links the account to a card and applies the revision when it is newer than the last one applied. The card is
   * the one already linked; else the one this site created for this customer id; else the one holding one of
   * its phones (in the order sent), then one of its emails — under the cross-peer rules of ContactsRepository
   * (another peer's unverified identities never match; linking through another peer's identity holds what the
   * account attaches unverified, and its name, birthday, address and consents only fill what the card lacks);
   * else a new card. The caller holds lockKeys(r).
   */
  async applySiteRevision(
    em: EntityManager,
    r: SiteCustomerRevision,
    source: string,
  ): Promise<{ outcome: SiteCustomerOutcome; contactId: string }> {
    const linked: Array<{ contact_id: string; version: string; verified: boolean }> = await em.query(
      `SELECT contact_id, version, verified FROM contact_site_accounts
        WHERE peer_id = $1 AND site_customer_id = $2 FOR UPDATE`,
      [r.peerId, r.siteCustomerId],
    );
    let contactId: string;
    let verified: boolean;
    let outcome: SiteCustomerOutcome = 'updated';
    if (linked[0]) {
      if (Number(linked[0].version) >= r.version)
        return { outcome: 'stale', contactId: linked[0].contact_id };
      contactId = linked[0].contact_id;
      verified = linked[0].verified;
    } else {
      const match = await this.match(em, r);
      if (match) {
        ({ contactId, verified } = match);
        outcome = 'linked';
      } else {
        contactId = await this.create(em, r, source);
        verified = true;
        outcome = 'created';
      }
      await em.query(
        `INSERT INTO contact_site_accounts (peer_id, site_customer_id, contact_id, version, verified)
         VALUES ($1, $2, $3, $4, $5)`,
        [r.peerId, r.siteCustomerId, contactId, r.version, verified],
      );
    }
    await em.query(
      `WITH cand AS (
         SELECT 'phone'::text AS kind, v AS value, o FROM unnest($2::text[]) WITH ORDINALITY AS p(v, o)
         UNION ALL SELECT 'email', v, 100 + o FROM unnest($3::text[]) WITH ORDINALITY AS e(v, o)),
       added AS (
         INSERT INTO contact_identities (kind, value, contact_id, peer_id, verified)
         SELECT kind, value, $1, $4, $5 FROM cand ORDER BY o
         ON CONFLICT DO NOTHING RETURNING kind, value, verified)
       UPDATE contacts c SET
         phones = c.phones || COALESCE((SELECT array_agg(value) FROM added WHERE kind = 'phone' AND verified), '{}'),
         emails = c.emails || COALESCE((SELECT array_agg(value) FROM added WHERE kind = 'email' AND verified), '{}'),
         -- Linked through another peer's identity ($5 false): the account only fills what the card lacks.
         name = CASE WHEN $6 AND ($5 OR c.name IS NULL) THEN $7 ELSE c.name END,
         birthday = CASE WHEN $8 AND ($5 OR c.birthday IS NULL) THEN $9::date ELSE c.birthday END,
         address = CASE WHEN $10 AND ($5 OR c.address IS NULL) THEN $11::jsonb ELSE c.address END,
         consents = CASE WHEN $5 THEN c.consents || $12::jsonb ELSE $12::jsonb || c.consents END,
         site_customer_id = COALESCE(c.site_customer_id, $13),
         updated_at = now()
       WHERE c.id = $1`,
      [
        contactId,
        r.phones,
        r.emails,
        r.peerId,
        verified,
        r.name !== undefined,
        r.name ?? null,
        r.birthday !== undefined,
        r.birthday ?? null,
        r.address !== undefined,
        r.address == null ? null : JSON.stringify(r.address),
        JSON.stringify(r.consents ?? {}),
        r.siteCustomerId,
      ],
    );
    await em.query(
      `UPDATE contact_site_accounts SET version = $3, updated_at = now() WHERE peer_id = $1 AND site_customer_id = $2`,
      [r.peerId, r.siteCustomerId, r.version],
    );
    return { outcome, contactId };
  }

  /** An existing card for an account not linked yet; null when none. */
  private async match(
    em: EntityManager,
    r: SiteCustomerRevision,
  ): Promise<{ contactId: string; verified: boolean } | null> {
    const rows: Array<{ contact_id: string; same_peer: boolean }> = await em.query(
      `WITH cand AS (
         SELECT 'phone'::text AS kind, v AS value, o FROM unnest($3::text[]) WITH ORDINALITY AS p(v, o)
         UNION ALL SELECT 'email', v, 100 + o FROM unnest($4::text[]) WITH ORDINALITY AS e(v, o))
       SELECT contact_id, same_peer FROM (
         -- A card this site created for the same customer id (a lead or order that carried it).
         SELECT id AS contact_id, true AS same_peer, 0 AS pref, 0::bigint AS o FROM contacts
          WHERE site_customer_id = $2 AND source = 'website:' || $1
         UNION ALL
         SELECT i.contact_id, (i.verified AND (i.peer_id IS NULL OR i.peer_id = $1)), 1, cand.o
           FROM cand JOIN contact_identities i USING (kind, value)
          WHERE i.verified OR i.peer_id = $1) m
       ORDER BY pref, o, same_peer DESC LIMIT 1`,
      [r.peerId, r.siteCustomerId, r.phones, r.emails],
    );
    return rows[0] ? { contactId: rows[0].contact_id, verified: rows[0].same_peer } : null;
  }

  private async create(em: EntityManager, r: SiteCustomerRevision, source: string): Promise<string> {
    const rows: Array<{ id: string }> = await em.query(
      `INSERT INTO contacts (name, responsible_manager_id, source, site_customer_id)
       SELECT $1, ${roundRobinSql('s.turn')}, $2, $3 FROM (SELECT nextval('manager_assignment_seq') AS turn) s
       RETURNING id`,
      [r.name ?? null, source, r.siteCustomerId],
    );
    return rows[0].id;
  }

  /**
   * An operator's edit of the shared fields. Phones and emails replace the card's: identities added are
   * attached to this card (verified; one another card holds refuses the edit), identities removed are detached.
   * Records ONE crm.contact.updated when any field actually changed. The caller holds the advisory locks of the
   * identities it adds (`phone:<e164>`, `email:<address>`).
   */
  async edit(em: EntityManager, contactId: string, e: ContactEdit, now: Date): Promise<ContactEditResult> {
    const before: ContactFields[] = await em.query(
      `SELECT ${FIELDS_SQL} FROM contacts WHERE id = $1 FOR UPDATE`,
      [contactId],
    );
    if (!before[0]) return { status: 'not_found' };
    const old = before[0];
    const next: ContactFields = {
      name: e.name !== undefined ? e.name : old.name,
      phones: [...new Set(e.phones ?? old.phones)],
      emails: [...new Set(e.emails ?? old.emails)],
      birthday: e.birthday !== undefined ? e.birthday : old.birthday,
      address: e.address !== undefined ? e.address : old.address,
    };
    const changed = CONTACT_SHARED_FIELDS.filter((f) => canonical(old[f]) !== canonical(next[f]));
    if (changed.length === 0) return { status: 'ok', contact: { id: contactId, ...old }, changed: [] };

    const want = [...next.phones.map((v) => ['phone', v]), ...next.emails.map((v) => ['email', v])];
    // Attach (or confirm as this card's, verified) every identity the card now lists; another card's stays.
    const owned: Array<{ kind: string; value: string }> = await em.query(
      `INSERT INTO contact_identities AS i (kind, value, contact_id, peer_id, verified)
       SELECT k, v, $1, NULL, true FROM unnest($2::text[], $3::text[]) AS x(k, v)
       ON CONFLICT (kind, value) DO UPDATE SET verified = true
         WHERE i.contact_id = EXCLUDED.contact_id
       RETURNING kind, value`,
      [contactId, want.map((w) => w[0]), want.map((w) => w[1])],
    );
    const ownedKeys = new Set(owned.map((o) => `${o.kind}:${o.value}`));
    const taken = want.map(([k, v]) => `${k}:${v}`).filter((k) => !ownedKeys.has(k));
    if (taken.length > 0) return { status: 'identity_taken', identities: taken };
    await em.query(
      `DELETE FROM contact_identities WHERE contact_id = $1
          AND NOT ((kind = 'phone' AND value = ANY($2::text[])) OR (kind = 'email' AND value = ANY($3::text[])))
          AND (verified OR peer_id IS NULL)`,
      [contactId, next.phones, next.emails],
    );
    await em.query(
      `UPDATE contacts SET name = $2, phones = $3, emails = $4, birthday = $5::date, address = $6::jsonb,
              updated_at = now() WHERE id = $1`,
      [
        contactId,
        next.name,
        next.phones,
        next.emails,
        next.birthday,
        next.address === null ? null : JSON.stringify(next.address),
      ],
    );
    const accounts = await this.loyalty.siteAccounts(em, [contactId]);
    await this.changes.record(em, [
      {
        type: 'crm.contact.updated',
        aggregateKey: contactKey(contactId),
        contactId,
        payload: { contactId, siteAccounts: accounts.get(contactId) ?? [], changed, ...next },
        occurredAt: now,
      },
    ]);
    return { status: 'ok', contact: { id: contactId, ...next }, changed };
  }
}
