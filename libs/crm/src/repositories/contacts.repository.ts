import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { roundRobinSql } from '../rules/assignment';
import { rounds } from '../services/rounds';
import { preparedQuery } from './prepared-query';

export interface ContactCandidate {
  name?: string | null;
  /** Already normalized (E.164 / lower-case). */
  phone?: string | null;
  email?: string | null;
  source: string;
  siteCustomerId?: string | null;
  /** The peer the event came from: recorded on every identity it attaches (provenance). */
  peerId?: string | null;
}

/** A contact as a dedup candidate (rules/dedup matchCard). */
export interface ContactCard {
  id: string;
  phones: string[];
  emails: string[];
  responsibleManagerId: string | null;
  createdAt: Date;
}

export interface MatchedContact {
  id: string;
  responsibleManagerId: string | null;
  created: boolean;
  /** A new card's round-robin turn (the manager was picked with it): a caller deciding by rules reuses it. */
  turn?: number;
}

/**
 * For each candidate ($1 = its index in the call): finds the card (phone first, then email), or creates it with
 * a round-robin manager; attaches identities the card did not have yet; all in one statement. Runs after the
 * identities are locked, so its snapshot sees every card committed by a concurrent transaction about the same
 * customer. The candidates of one call share no identity (the caller splits them; see findOrCreateMany), so
 * none can depend on a card another creates in the same statement.
 *
 * Provenance: each identity row records the peer that attached it. One attached to an existing card by another
 * peer than the one whose identity matched is held UNVERIFIED: kept (and visible with its peer on the card's
 * identities), but not added to the card's phones/emails, and matched only for events of the peer that
 * attached it, so one peer cannot graft its customer data onto another peer's card (issue 12, finding 6).
 */
const MATCH_OR_CREATE = `
WITH inp AS (
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    AS x(idx, name, phone, email, source, site_customer_id, peer_id)),
cand AS (
  SELECT idx, 'phone'::text AS kind, phone AS value FROM inp WHERE phone IS NOT NULL
  UNION ALL SELECT idx, 'email', email FROM inp WHERE email IS NOT NULL),
found AS (
  SELECT DISTINCT ON (cand.idx) cand.idx, i.contact_id AS id, c.responsible_manager_id,
         -- What it attaches is verified only when matched by a verified identity of the same peer (legacy rows,
         -- from before provenance, count as the same peer's).
         (i.verified AND (i.peer_id IS NULL OR i.peer_id IS NOT DISTINCT FROM inp.peer_id)) AS same_peer
    FROM cand JOIN inp USING (idx)
    -- One probe of the identities' primary key per candidate, whatever the statistics (a LATERAL subquery with
    -- LIMIT is never pulled up into a join). As a join, the named statement's generic plan, made while the table
    -- was small, hash-joined a scan of every identity for each batch: 16 µs an order at 34,000 identities, and
    -- growing with them until the next ANALYZE.
    CROSS JOIN LATERAL (SELECT i.kind, i.contact_id, i.verified, i.peer_id FROM contact_identities i
                         WHERE i.kind = cand.kind AND i.value = cand.value LIMIT 1) i
    JOIN contacts c ON c.id = i.contact_id
   WHERE i.verified OR i.peer_id IS NOT DISTINCT FROM inp.peer_id
   ORDER BY cand.idx, (i.kind = 'phone') DESC, i.verified DESC),
fresh AS MATERIALIZED (
  -- Round robin over active managers: one sequence value per new card, in candidate order. The manager is picked
  -- here, so \`chosen\` needs nothing back from the INSERT: joined to its RETURNING rows, it was a nested loop over
  -- two CTE scans whenever the planner guessed one row each (25 ms for a batch of 500 new cards).
  SELECT t.*, ${roundRobinSql('t.turn')} AS manager_id
    FROM (SELECT inp.*, gen_random_uuid() AS id, nextval('manager_assignment_seq') AS turn
            FROM inp WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.idx = inp.idx) ORDER BY inp.idx) t),
created AS (
  INSERT INTO contacts (id, name, phones, emails, responsible_manager_id, source, site_customer_id)
  SELECT f.id, f.name,
         CASE WHEN f.phone IS NULL THEN '{}' ELSE ARRAY[f.phone] END,
         CASE WHEN f.email IS NULL THEN '{}' ELSE ARRAY[f.email] END,
         f.manager_id, f.source, f.site_customer_id
    FROM fresh f ORDER BY f.idx),
chosen AS (
  SELECT idx, id, responsible_manager_id, false AS created, same_peer, NULL::bigint AS turn FROM found
  UNION ALL SELECT idx, id, manager_id, true, true, turn FROM fresh),
added AS (
  INSERT INTO contact_identities (kind, value, contact_id, peer_id, verified)
  SELECT cand.kind, cand.value, chosen.id, inp.peer_id, chosen.same_peer
    FROM cand JOIN chosen USING (idx) JOIN inp USING (idx) ORDER BY cand.idx
  ON CONFLICT DO NOTHING RETURNING kind, value, contact_id, verified),
-- Found cards: every identity newly attached to each, and the first name offered for a card without one.
touched AS (
  SELECT ch.id, (array_agg(inp.name ORDER BY ch.idx) FILTER (WHERE inp.name IS NOT NULL))[1] AS name
    FROM chosen ch JOIN inp USING (idx) WHERE NOT ch.created GROUP BY ch.id),
attaching AS (
  SELECT a.contact_id AS id,
         array_agg(a.value ORDER BY cand.idx) FILTER (WHERE a.kind = 'phone') AS phones,
         array_agg(a.value ORDER BY cand.idx) FILTER (WHERE a.kind = 'email') AS emails
    FROM added a JOIN cand USING (kind, value) WHERE a.verified GROUP BY a.contact_id),
attached AS (
  UPDATE contacts c
     SET phones = c.phones || COALESCE(n.phones, '{}'), emails = c.emails || COALESCE(n.emails, '{}'),
         name = COALESCE(c.name, t.name), updated_at = now()
    FROM touched t LEFT JOIN attaching n USING (id)
   WHERE c.id = t.id AND (n.id IS NOT NULL OR (c.name IS NULL AND t.name IS NOT NULL))
  RETURNING c.id)
SELECT idx, id, responsible_manager_id, created, turn FROM chosen ORDER BY idx`;

function identitiesOf(c: Pick<ContactCandidate, 'phone' | 'email'>): Array<['phone' | 'email', string]> {
  const out: Array<['phone' | 'email', string]> = [];
  if (c.phone) out.push(['phone', c.phone]);
  if (c.email) out.push(['email', c.email]);
  return out;
}

/**
 * Find-or-create by phone, then email. Concurrent events about the same new customer must yield one card, so
 * the caller locks the identities first (lockKeys, taken by the inbox in a fixed order), and identities are
 * unique rows. A match on either identity attaches the other to the card; phone wins over
 * email because people share office emails more often than mobile numbers.
 */
@Injectable()
export class ContactsRepository {
  /** The advisory-lock keys a find-or-create of this candidate needs. */
  lockKeys(c: Pick<ContactCandidate, 'phone' | 'email'>): string[] {
    return identitiesOf(c).map(([k, v]) => `${k}:${v}`);
  }

  /** Cards (contacts) holding this phone or email, for dedup (rules/dedup matchCard). Verified identities only. */
  async findByIdentity(
    em: EntityManager,
    phone: string | null,
    email: string | null,
  ): Promise<
    Array<{
      id: string;
      phones: string[];
      emails: string[];
      responsibleManagerId: string | null;
      createdAt: Date;
    }>
  > {
    const rows: Array<{
      id: string;
      phones: string[];
      emails: string[];
      responsible_manager_id: string | null;
      created_at: Date;
    }> = await em.query(
      `SELECT DISTINCT c.id, c.phones, c.emails, c.responsible_manager_id, c.created_at
         FROM contact_identities i JOIN contacts c ON c.id = i.contact_id
        WHERE i.verified AND ((i.kind = 'phone' AND i.value = $1) OR (i.kind = 'email' AND i.value = $2))`,
      [phone, email],
    );
    return rows.map((r) => ({
      id: r.id,
      phones: r.phones,
      emails: r.emails,
      responsibleManagerId: r.responsible_manager_id,
      createdAt: r.created_at,
    }));
  }

  /**
   * findByIdentity for many phones and emails at once: identity key (`phone:+7…`, `email:…`, as lockKeys) -> the
   * contacts holding it as a verified identity.
   */
  async findByIdentities(
    em: EntityManager,
    phones: string[],
    emails: string[],
  ): Promise<Map<string, Array<ContactCard>>> {
    const out = new Map<string, ContactCard[]>();
    if (phones.length === 0 && emails.length === 0) return out;
    const rows: Array<{
      kind: string;
      value: string;
      id: string;
      phones: string[];
      emails: string[];
      responsible_manager_id: string | null;
      created_at: Date;
    }> = await em.query(
      `SELECT i.kind, i.value, c.id, c.phones, c.emails, c.responsible_manager_id, c.created_at
         FROM (SELECT 'phone' AS kind, unnest($1::text[]) AS value
               UNION ALL SELECT 'email', unnest($2::text[])) x
         JOIN contact_identities i ON i.kind = x.kind AND i.value = x.value AND i.verified
         JOIN contacts c ON c.id = i.contact_id`,
      [phones, emails],
    );
    const cards = new Map<string, ContactCard>();
    for (const r of rows) {
      let card = cards.get(r.id);
      if (!card) {
        card = {
          id: r.id,
          phones: r.phones,
          emails: r.emails,
          responsibleManagerId: r.responsible_manager_id,
          createdAt: r.created_at,
        };
        cards.set(r.id, card);
      }
      const key = `${r.kind}:${r.value}`;
      out.set(key, [...(out.get(key) ?? []), card]);
    }
    return out;
  }

  /** The caller holds lockKeys(c) in the current transaction (the inbox takes them; see lockAll). */
  /** Sets the responsible manager of cards (e.g. new ones the assignment rules gave to another manager). */
  async setResponsible(em: EntityManager, ids: string[], managerIds: Array<string | null>): Promise<void> {
    if (ids.length === 0) return;
    await em.query(
      `UPDATE contacts c SET responsible_manager_id = x.m, updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS x(id, m) WHERE c.id = x.id`,
      [ids, managerIds],
    );
  }

  async findOrCreate(em: EntityManager, c: ContactCandidate): Promise<MatchedContact> {
    return (await this.findOrCreateMany(em, [c]))[0];
  }

  /**
   * findOrCreate for many candidates, with the result of doing them one after another in the given order, in
   * as few statements as their shared identities allow: candidates are split into rounds where none shares an
   * identity with another (a candidate goes in the round after the last one holding any of its identities), and
   * each round is one statement. The caller holds every candidate's lockKeys.
   */
  async findOrCreateMany(em: EntityManager, candidates: ContactCandidate[]): Promise<MatchedContact[]> {
    if (candidates.some((c) => !c.phone && !c.email)) throw new Error('a contact needs a phone or an email');
    const out: MatchedContact[] = new Array<MatchedContact>(candidates.length);
    for (const round of rounds(candidates.map((c) => this.lockKeys(c)))) {
      const cs = round.map((i) => candidates[i]);
      const rows: Array<{
        idx: number;
        id: string;
        responsible_manager_id: string | null;
        created: boolean;
        turn: string | null;
      }> = await preparedQuery(em, MATCH_OR_CREATE, [
        round,
        cs.map((c) => c.name ?? null),
        cs.map((c) => c.phone || null),
        cs.map((c) => c.email || null),
        cs.map((c) => c.source),
        cs.map((c) => c.siteCustomerId ?? null),
        cs.map((c) => c.peerId ?? null),
      ]);
      for (const r of rows) {
        out[r.idx] = {
          id: r.id,
          responsibleManagerId: r.responsible_manager_id,
          created: r.created,
          ...(r.turn !== null ? { turn: Number(r.turn) } : {}),
        };
      }
    }
    return out;
  }
}
