import { Injectable } from '@nestjs/common';
import { EventEnvelope } from '@switchboard/contracts';
import { DataSource, EntityManager } from 'typeorm';

export type InboxOutcome<R> = { duplicate: true } | { duplicate: false; result: R };

/**
 * Transaction-scoped advisory locks on the keys, taken in sorted order in one statement: a fixed order, so
 * concurrent holders queue instead of deadlocking. Effects that find-or-create by identity rely on them.
 */
export async function lockAll(em: EntityManager, keys: string[]): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  await em.query(
    `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) s`,
    [sorted],
  );
}

/**
 * Effectively-once processing: the processed-event marker and the effects commit together or not at all.
 * A redelivered message (same event id) or a re-posted fact (same peer + idempotency key) is recognised by
 * the marker's unique keys and does nothing.
 */
@Injectable()
export class Inbox {
  constructor(private readonly ds: DataSource) {}

  async process<R extends { outcome: string }>(
    consumer: string,
    envelope: EventEnvelope,
    effects: (em: EntityManager) => Promise<R>,
    lockKeys: string[] = [],
  ): Promise<InboxOutcome<R>> {
    return this.ds.transaction(async (em) => {
      const inserted: unknown[] = await em.query(
        `INSERT INTO processed_events (consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending')
         ON CONFLICT DO NOTHING RETURNING 1`,
        [consumer, envelope.id, envelope.peerId, envelope.idempotencyKey, envelope.type, envelope.traceId],
      );
      if (inserted.length === 0) return { duplicate: true } as const;
      await lockAll(em, lockKeys);
      const result = await effects(em);
      await em.query(`UPDATE processed_events SET outcome = $3 WHERE consumer = $1 AND event_id = $2`, [
        consumer,
        envelope.id,
        result.outcome,
      ]);
      return { duplicate: false, result } as const;
    });
  }
}
