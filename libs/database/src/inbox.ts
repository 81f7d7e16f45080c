import { Injectable } from '@nestjs/common';
import { EventEnvelope } from '@switchboard/contracts';
import { DataSource, EntityManager } from 'typeorm';

export type InboxOutcome<R> = { duplicate: true } | { duplicate: false; result: R };

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
  ): Promise<InboxOutcome<R>> {
    return this.ds.transaction(async (em) => {
      const inserted: unknown[] = await em.query(
        `INSERT INTO processed_events (consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending')
         ON CONFLICT DO NOTHING RETURNING 1`,
        [consumer, envelope.id, envelope.peerId, envelope.idempotencyKey, envelope.type, envelope.traceId],
      );
      if (inserted.length === 0) return { duplicate: true } as const;
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
