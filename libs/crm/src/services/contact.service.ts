import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AssignmentService } from './assignment.service';

export interface ContactCandidate {
  name?: string | null;
  /** Already normalized (E.164 / lower-case). */
  phone?: string | null;
  email?: string | null;
  source: string;
  siteCustomerId?: string | null;
}

export interface MatchedContact {
  id: string;
  responsibleManagerId: string | null;
  created: boolean;
}

/**
 * Find-or-create by phone, then email. Concurrent events about the same new customer must yield one card, so
 * the identities are locked (transaction-scoped advisory locks, in a fixed order to avoid deadlocks) before
 * looking up, and identities are unique rows. A match on either identity attaches the other to the card.
 */
@Injectable()
export class ContactService {
  constructor(private readonly assignment: AssignmentService) {}

  async findOrCreate(em: EntityManager, c: ContactCandidate): Promise<MatchedContact> {
    const identities: Array<['phone' | 'email', string]> = [];
    if (c.phone) identities.push(['phone', c.phone]);
    if (c.email) identities.push(['email', c.email]);
    if (identities.length === 0) throw new Error('a contact needs a phone or an email');

    const keys = identities.map(([k, v]) => `${k}:${v}`).sort();
    await em.query(
      `SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k`,
      [keys],
    );

    const found: Array<{ contact_id: string; kind: string; responsible_manager_id: string | null }> =
      await em.query(
        `SELECT i.contact_id, i.kind, c.responsible_manager_id
         FROM contact_identities i JOIN contacts c ON c.id = i.contact_id
        WHERE (i.kind, i.value) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [identities.map(([k]) => k), identities.map(([, v]) => v)],
      );
    // Phone is the stronger identity: people share office emails more often than mobile numbers.
    const match = found.find((f) => f.kind === 'phone') ?? found[0];
    if (match) {
      await this.attach(em, match.contact_id, identities, c.name);
      return { id: match.contact_id, responsibleManagerId: match.responsible_manager_id, created: false };
    }

    const manager = await this.assignment.next(em);
    const [row]: Array<{ id: string }> = await em.query(
      `INSERT INTO contacts (name, phones, emails, responsible_manager_id, source, site_customer_id)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [
        c.name ?? null,
        c.phone ? [c.phone] : [],
        c.email ? [c.email] : [],
        manager,
        c.source,
        c.siteCustomerId ?? null,
      ],
    );
    await this.insertIdentities(em, row.id, identities);
    return { id: row.id, responsibleManagerId: manager, created: true };
  }

  private async attach(
    em: EntityManager,
    contactId: string,
    identities: Array<['phone' | 'email', string]>,
    name?: string | null,
  ): Promise<void> {
    const added = await this.insertIdentities(em, contactId, identities);
    const phones = added.filter(([k]) => k === 'phone').map(([, v]) => v);
    const emails = added.filter(([k]) => k === 'email').map(([, v]) => v);
    if (phones.length || emails.length || name) {
      await em.query(
        `UPDATE contacts SET phones = phones || $2::text[], emails = emails || $3::text[],
                name = COALESCE(name, $4), updated_at = now()
          WHERE id = $1`,
        [contactId, phones, emails, name ?? null],
      );
    }
  }

  /** Returns the identities that were new (not already on some card). */
  private async insertIdentities(
    em: EntityManager,
    contactId: string,
    identities: Array<['phone' | 'email', string]>,
  ): Promise<Array<['phone' | 'email', string]>> {
    const rows: Array<{ kind: 'phone' | 'email'; value: string }> = await em.query(
      `INSERT INTO contact_identities (kind, value, contact_id)
       SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS t(k, v)
       ON CONFLICT DO NOTHING RETURNING kind, value`,
      [identities.map(([k]) => k), identities.map(([, v]) => v), contactId],
    );
    return rows.map((r) => [r.kind, r.value]);
  }
}
