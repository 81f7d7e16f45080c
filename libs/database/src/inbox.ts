import { Injectable, Optional } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { EventEnvelope } from '@switchboard/contracts';
import { preparedQuery } from '@switchboard/crm';
import { DataSource, EntityManager } from 'typeorm';

export type InboxOutcome<R> = { duplicate: true } | { duplicate: false; result: R };

/**
 * Transaction-scoped advisory locks on the keys, taken in sorted order in one statement: a fixed order, so
 * concurrent holders queue instead of deadlocking. Effects that find-or-create by identity rely on them.
 */
export async function lockAll(em: EntityManager, keys: string[]): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  // Prepared: taken two or three times per batch, it was planned each time for a fraction of its run time.
  await preparedQuery(
    em,
    `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) s`,
    [sorted],
  );
}

/** The advisory-lock key of a consumer's idempotency key: held while the inbox looks for an earlier marker. */
export function idempotencyLockKey(consumer: string, envelope: EventEnvelope): string {
  return `inbox:${JSON.stringify([consumer, envelope.peerId, envelope.idempotencyKey])}`;
}

/** The gateway's receipt time: the fallback of uuid_v7_day for event ids that are not UUIDv7. */
export function receivedAtOf(envelope: EventEnvelope): string {
  const t = Date.parse(envelope.receivedAt);
  return Number.isFinite(t) ? new Date(t).toISOString() : new Date().toISOString();
}

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

/** The marker's day as uuid_v7_day computes it: the UTC day of the UUIDv7 id's time, else of receivedAt. */
export function receivedDayOf(envelope: EventEnvelope): string {
  const hex = envelope.id.replace(/-/g, '');
  return isoDay(hex[12] === '7' ? parseInt(hex.slice(0, 12), 16) : Date.parse(receivedAtOf(envelope)));
}

/**
 * The days the cross-day lookup reads, as constants so PostgreSQL prunes the other partitions when it plans:
 * from the window's first day (older days are outside the window even while maintenance has not dropped them
 * yet) to the day after the latest of today and the events' own days (not the empty days made ahead).
 */
export function lookupDays(
  envelopes: EventEnvelope[],
  windowDays: number,
  now = Date.now(),
): [string, string] {
  const latest = Math.max(now, ...envelopes.map((e) => Date.parse(`${receivedDayOf(e)}T00:00:00Z`)));
  return [isoDay(now - (windowDays + 1) * DAY_MS), isoDay(latest + DAY_MS)];
}

/**
 * Marker insert for one event. The marker's day (received_on, the partition key) is the UTC day of the UUIDv7
 * event id, so a redelivery meets its own marker through the primary key, a same-day re-post through the
 * idempotency unique key, and a re-post on another day through NOT EXISTS over the other days' markers — which
 * sees committed markers only, hence the key's advisory lock taken first.
 */
const INSERT_MARKER = `
  INSERT INTO processed_events (consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome, received_on)
  SELECT $1, $2, $3, $4, $5, $6, 'pending', x.d
    FROM (SELECT uuid_v7_day($2::uuid, $7::timestamptz) AS d) x
   WHERE NOT EXISTS (SELECT 1 FROM processed_events p
                      WHERE p.consumer = $1 AND p.peer_id = $3 AND p.idempotency_key = $4 AND p.received_on <> x.d
                        AND p.received_on BETWEEN $8::date AND $9::date)
  ON CONFLICT DO NOTHING RETURNING received_on::text AS day`;

/**
 * Effectively-once processing: the processed-event marker and the effects commit together or not at all.
 * A redelivered message (same event id) or a re-posted fact (same peer + idempotency key) is recognised by
 * the markers and does nothing — within the idempotency window (database.idempotencyWindowDays): older
 * markers are dropped with their day partition, and a re-post older than that is processed again.
 */
@Injectable()
export class Inbox {
  /** database.idempotencyWindowDays (30 without a config: tests). */
  readonly windowDays: number;

  constructor(
    private readonly ds: DataSource,
    @Optional() config?: AppConfig,
  ) {
    this.windowDays = config?.database?.idempotencyWindowDays ?? 30;
  }

  async process<R extends { outcome: string }>(
    consumer: string,
    envelope: EventEnvelope,
    effects: (em: EntityManager) => Promise<R>,
    lockKeys: string[] = [],
  ): Promise<InboxOutcome<R>> {
    return this.ds.transaction(async (em) => {
      await lockAll(em, [idempotencyLockKey(consumer, envelope)]);
      const inserted: Array<{ day: string }> = await em.query(INSERT_MARKER, [
        consumer,
        envelope.id,
        envelope.peerId,
        envelope.idempotencyKey,
        envelope.type,
        envelope.traceId,
        receivedAtOf(envelope),
        ...lookupDays([envelope], this.windowDays),
      ]);
      if (inserted.length === 0) return { duplicate: true } as const;
      await lockAll(em, lockKeys);
      const result = await effects(em);
      await em.query(
        `UPDATE processed_events SET outcome = $4 WHERE consumer = $1 AND event_id = $2 AND received_on = $3::date`,
        [consumer, envelope.id, inserted[0].day, result.outcome],
      );
      return { duplicate: false, result } as const;
    });
  }
}
