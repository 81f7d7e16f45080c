import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { preparedQuery } from './prepared-query';

/** The change types peers can subscribe to (an outbound endpoint's `eventTypes`). */
export const CRM_CHANGE_TYPES = [
  'crm.deal.status_changed',
  'crm.contact.discount_changed',
  'crm.contact.updated',
] as const;
export type CrmChangeType = (typeof CRM_CHANGE_TYPES)[number];

export interface CrmChange {
  type: CrmChangeType;
  /**
   * What a later change supersedes and must never overtake: `contact:<id>` for contact changes; a deal's
   * changes use its contact's key too, so one customer's changes reach the site in the order they were made.
   */
  aggregateKey: string;
  contactId?: string | null;
  dealId?: string | null;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export interface CrmChangeRow extends CrmChange {
  seq: string;
  createdAt: Date;
}

type Row = Record<string, unknown>;
const toChange = (r: Row): CrmChangeRow => ({
  seq: String(r.seq),
  type: r.type as CrmChangeType,
  aggregateKey: r.aggregate_key as string,
  contactId: r.contact_id as string | null,
  dealId: r.deal_id as string | null,
  payload: r.payload as Record<string, unknown>,
  occurredAt: r.occurred_at as Date,
  createdAt: r.created_at as Date,
});

/**
 * The CRM outbox: every producer records its change through `record()` with the EntityManager of the
 * transaction that makes the change. Only apps/outbound reads it.
 */
@Injectable()
export class CrmChangesRepository {
  /** Records changes in the caller's transaction; one INSERT for the whole batch. */
  async record(m: EntityManager, changes: readonly CrmChange[]): Promise<void> {
    if (changes.length === 0) return;
    await preparedQuery(
      m,
      `INSERT INTO crm_changes (type, aggregate_key, contact_id, deal_id, payload, occurred_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::jsonb[], $6::timestamptz[])`,
      [
        changes.map((c) => c.type),
        changes.map((c) => c.aggregateKey),
        changes.map((c) => c.contactId ?? null),
        changes.map((c) => c.dealId ?? null),
        changes.map((c) => JSON.stringify(c.payload)),
        changes.map((c) => c.occurredAt.toISOString()),
      ],
    );
  }

  /** The sequence numbers after `seq`, ascending (the primary key alone). */
  async seqsAfter(m: EntityManager, seq: string, limit: number): Promise<string[]> {
    const rows: Array<{ seq: string }> = await m.query(
      `SELECT seq FROM crm_changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [seq, limit],
    );
    return rows.map((r) => String(r.seq));
  }

  /** Changes after `seq`, oldest first. */
  async after(m: EntityManager, seq: string, limit: number): Promise<CrmChangeRow[]> {
    const rows: Row[] = await m.query(
      `SELECT seq, type, aggregate_key, contact_id, deal_id, payload, occurred_at, created_at
         FROM crm_changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [seq, limit],
    );
    return rows.map(toChange);
  }
}

export const contactKey = (contactId: string): string => `contact:${contactId}`;
