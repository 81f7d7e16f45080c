import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ROUND_ROBIN_MANAGER_SQL } from './assignment.service';

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
 * Finds the card (phone first, then email), or creates it with a round-robin manager; attaches identities the
 * card did not have yet; all in one statement. Runs after the identities are locked, so its snapshot sees
 * every card committed by a concurrent transaction about the same customer.
 */
const MATCH_OR_CREATE = `
WITH cand(kind, value) AS (SELECT * FROM unnest($1::text[], $2::text[])),
found AS (
  SELECT i.contact_id AS id, c.responsible_manager_id
    FROM contact_identities i JOIN contacts c ON c.id = i.contact_id JOIN cand USING (kind, value)
   ORDER BY (i.kind = 'phone') DESC LIMIT 1),
created AS (
  INSERT INTO contacts (name, phones, emails, responsible_manager_id, source, site_customer_id)
  SELECT $3, $4::text[], $5::text[], ${ROUND_ROBIN_MANAGER_SQL}, $6, $7
   WHERE NOT EXISTS (SELECT 1 FROM found)
  RETURNING id, responsible_manager_id),
chosen AS (
  SELECT id, responsible_manager_id, false AS created FROM found
  UNION ALL SELECT id, responsible_manager_id, true FROM created),
added AS (
  INSERT INTO contact_identities (kind, value, contact_id)
  SELECT cand.kind, cand.value, chosen.id FROM cand, chosen
  ON CONFLICT DO NOTHING RETURNING kind, value),
attached AS (
  UPDATE contacts c
     SET phones = c.phones || ARRAY(SELECT value FROM added WHERE kind = 'phone'),
         emails = c.emails || ARRAY(SELECT value FROM added WHERE kind = 'email'),
         name = COALESCE(c.name, $3), updated_at = now()
    FROM chosen
   WHERE c.id = chosen.id AND NOT chosen.created
     AND (EXISTS (SELECT 1 FROM added) OR (c.name IS NULL AND $3::text IS NOT NULL))
  RETURNING c.id)
SELECT id, responsible_manager_id, created FROM chosen`;

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
export class ContactService {
  /** The advisory-lock keys a find-or-create of this candidate needs. */
  lockKeys(c: Pick<ContactCandidate, 'phone' | 'email'>): string[] {
    return identitiesOf(c).map(([k, v]) => `${k}:${v}`);
  }

  /** The caller holds lockKeys(c) in the current transaction (the inbox takes them; see lockAll). */
  async findOrCreate(em: EntityManager, c: ContactCandidate): Promise<MatchedContact> {
    const identities = identitiesOf(c);
    if (identities.length === 0) throw new Error('a contact needs a phone or an email');
    const [row]: Array<{ id: string; responsible_manager_id: string | null; created: boolean }> =
      await em.query(MATCH_OR_CREATE, [
        identities.map(([k]) => k),
        identities.map(([, v]) => v),
        c.name ?? null,
        c.phone ? [c.phone] : [],
        c.email ? [c.email] : [],
        c.source,
        c.siteCustomerId ?? null,
      ]);
    return { id: row.id, responsibleManagerId: row.responsible_manager_id, created: row.created };
  }
}
