import { ConflictError, NotFoundError } from '@switchboard/contracts';
import type { Sql, SqlDb } from '../peers/sql';
import {
  type AttemptResult,
  type DeliveryPolicy,
  type EndpointHealth,
  isHalfOpen,
  nextDeliveryState,
  nextEndpointHealth,
} from './delivery-policy';

/** A CRM change ready to fan out: its outbox seq, routing facts and the JSON body every subscriber gets. */
export interface ChangeToFanOut {
  seq: string;
  type: string;
  aggregateKey: string;
  /** type + aggregate + the entity (deal): a later change with the same key supersedes a pending earlier one. */
  supersedeKey: string;
  body: string;
}

/** One claimed delivery, with what the sender needs to sign and POST it. */
export interface ClaimedDelivery {
  id: string;
  peerId: string;
  changeSeq: string;
  type: string;
  body: string;
  attempts: number;
  firstAttemptAt: Date | null;
  url: string;
  sealedSecret: string;
}

export interface DeliveryView {
  id: string;
  peerId: string;
  changeSeq: string;
  type: string;
  aggregateKey: string;
  status: 'pending' | 'delivered' | 'failed' | 'superseded';
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastHttpStatus: number | null;
  lastErrorCode: string | null;
  deliveredAt: string | null;
  failedAt: string | null;
  supersededBy: string | null;
  createdAt: string;
  body?: unknown;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'superseded'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

type Row = Record<string, unknown>;
const iso = (v: unknown): string | null =>
  v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : null;
const view = (r: Row, withBody = false): DeliveryView => ({
  id: r.id as string,
  peerId: r.peer_id as string,
  changeSeq: String(r.change_seq),
  type: r.type as string,
  aggregateKey: r.aggregate_key as string,
  status: r.status as DeliveryStatus,
  attempts: r.attempts as number,
  nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
  lastAttemptAt: iso(r.last_attempt_at),
  lastHttpStatus: (r.last_http_status as number | null) ?? null,
  lastErrorCode: (r.last_error_code as string | null) ?? null,
  deliveredAt: iso(r.delivered_at),
  failedAt: iso(r.failed_at),
  supersededBy: (r.superseded_by as string | null) ?? null,
  createdAt: iso(r.created_at)!,
  ...(withBody && { body: JSON.parse(r.body as string) as unknown }),
});

/**
 * All SQL of outbound deliveries. Order and exclusivity live here: a delivery is claimable only when no earlier
 * pending delivery of the same endpoint and aggregate exists (per-contact order), claims lock with SKIP LOCKED and
 * then hold a lease (several replicas never send one delivery at once), and superseding never touches a leased
 * (in-flight) delivery.
 */
export class OutboundDeliveries {
  constructor(private readonly db: SqlDb) {}

  /**
   * One delivery per subscribed endpoint and change (idempotent: reading a change twice adds nothing), then marks
   * superseded the pending, not in-flight deliveries the new ones replace. Returns how many were created.
   */
  async fanOut(tx: Sql, changes: readonly ChangeToFanOut[], now: Date): Promise<number> {
    if (changes.length === 0) return 0;
    const created = await tx.query<{ id: string }>(
      `INSERT INTO outbound_deliveries (peer_id, change_seq, type, aggregate_key, supersede_key, body, next_attempt_at,
                                        created_at)
       SELECT e.peer_id, c.seq, c.type, c.aggregate_key, c.supersede_key, c.body, $6, $6
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
           AS c(seq, type, aggregate_key, supersede_key, body)
         JOIN outbound_endpoints e ON c.type = ANY (e.event_types)
        ORDER BY c.seq, e.peer_id
       ON CONFLICT (peer_id, change_seq) DO NOTHING
       RETURNING id`,
      [
        changes.map((c) => c.seq),
        changes.map((c) => c.type),
        changes.map((c) => c.aggregateKey),
        changes.map((c) => c.supersedeKey),
        changes.map((c) => c.body),
        now,
      ],
    );
    if (created.length === 0) return 0;
    // A separate statement: it must see the rows just inserted (two changes of one key in the same batch).
    await tx.query(
      `UPDATE outbound_deliveries d SET status = 'superseded', superseded_by = n.id, lease_until = NULL
         FROM (SELECT DISTINCT ON (peer_id, supersede_key) id, peer_id, supersede_key, change_seq
                 FROM outbound_deliveries WHERE id = ANY ($1::uuid[])
                ORDER BY peer_id, supersede_key, change_seq DESC) n
        WHERE d.peer_id = n.peer_id AND d.supersede_key = n.supersede_key AND d.change_seq < n.change_seq
          AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until < $2)`,
      [created.map((r) => r.id), now],
    );
    return created.length;
  }

  /**
   * Claims up to `limit` due deliveries for `leaseMs`: of active endpoints whose breaker is closed (half-open:
   * one per endpoint), each the oldest pending of its endpoint and aggregate.
   */
  async claim(now: Date, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>(
        `SELECT d.id, d.peer_id, d.change_seq, d.type, d.body, d.attempts, d.first_attempt_at, e.url,
                e.secret, e.breaker_open_until
           FROM outbound_deliveries d JOIN outbound_endpoints e ON e.peer_id = d.peer_id
          WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until < $1)
            AND e.state = 'active' AND (e.breaker_open_until IS NULL OR e.breaker_open_until <= $1)
            AND NOT EXISTS (
              SELECT 1 FROM outbound_deliveries p
               WHERE p.peer_id = d.peer_id AND p.aggregate_key = d.aggregate_key AND p.status = 'pending'
                 AND p.change_seq < d.change_seq)
          ORDER BY d.next_attempt_at, d.change_seq
          LIMIT $2
          FOR UPDATE OF d SKIP LOCKED`,
        [now, limit],
      );
      const probing = new Set<string>();
      const chosen = rows.filter((r) => {
        if (!isHalfOpen({ breakerOpenUntil: r.breaker_open_until as Date | null }, now)) return true;
        if (probing.has(r.peer_id as string)) return false;
        probing.add(r.peer_id as string);
        return true;
      });
      if (chosen.length === 0) return [];
      await tx.query(`UPDATE outbound_deliveries SET lease_until = $2 WHERE id = ANY ($1::uuid[])`, [
        chosen.map((r) => r.id),
        new Date(now.getTime() + leaseMs),
      ]);
      return chosen.map((r) => ({
        id: r.id as string,
        peerId: r.peer_id as string,
        changeSeq: String(r.change_seq),
        type: r.type as string,
        body: r.body as string,
        attempts: r.attempts as number,
        firstAttemptAt: (r.first_attempt_at as Date | null) ?? null,
        url: r.url as string,
        sealedSecret: r.secret as string,
      }));
    });
  }

  /**
   * Records a round of attempts (each with the time it started) and their endpoints' health, in one transaction.
   * Returns the endpoints this round paused.
   */
  async complete(
    attempts: ReadonlyArray<{ delivery: ClaimedDelivery; result: AttemptResult; at: Date }>,
    now: Date,
    policy: DeliveryPolicy,
    random: () => number = Math.random,
  ): Promise<string[]> {
    if (attempts.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const next = attempts.map(({ delivery, result, at }) =>
        nextDeliveryState(result, delivery.attempts + 1, delivery.firstAttemptAt ?? at, now, policy, random),
      );
      await tx.query(
        `UPDATE outbound_deliveries d SET
           status = x.status, attempts = d.attempts + 1, lease_until = NULL,
           first_attempt_at = COALESCE(d.first_attempt_at, x.at), last_attempt_at = x.at,
           next_attempt_at = COALESCE(x.next_at, d.next_attempt_at), last_http_status = x.http_status,
           last_error_code = x.error_code,
           delivered_at = CASE WHEN x.status = 'delivered' THEN $7::timestamptz END,
           failed_at = CASE WHEN x.status = 'failed' THEN $7::timestamptz END
          FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::text[])
            AS x(id, status, at, next_at, http_status, error_code)
         WHERE d.id = x.id AND d.status = 'pending'`,
        [
          attempts.map((a) => a.delivery.id),
          next.map((n) => n.status),
          attempts.map((a) => a.at),
          next.map((n) => (n.status === 'pending' ? n.nextAttemptAt : null)),
          attempts.map((a) => a.result.httpStatus),
          next.map((n) => (n.status === 'delivered' ? null : n.errorCode)),
          now,
        ],
      );
      const byPeer = new Map<string, AttemptResult[]>();
      for (const a of attempts)
        byPeer.set(a.delivery.peerId, [...(byPeer.get(a.delivery.peerId) ?? []), a.result]);
      const endpoints = await tx.query<Row>(
        `SELECT peer_id, state, consecutive_failures, failing_since, breaker_open_until, paused_at
           FROM outbound_endpoints WHERE peer_id = ANY ($1::text[]) ORDER BY peer_id FOR UPDATE`,
        [[...byPeer.keys()]],
      );
      const paused: string[] = [];
      for (const e of endpoints) {
        const prev: EndpointHealth = {
          state: e.state as EndpointHealth['state'],
          consecutiveFailures: e.consecutive_failures as number,
          failingSince: e.failing_since as Date | null,
          breakerOpenUntil: e.breaker_open_until as Date | null,
          pausedAt: e.paused_at as Date | null,
        };
        const h = nextEndpointHealth(prev, byPeer.get(e.peer_id as string)!, now, policy);
        if (h.state === 'paused' && prev.state === 'active') paused.push(e.peer_id as string);
        await tx.query(
          `UPDATE outbound_endpoints SET state = $2, consecutive_failures = $3, failing_since = $4,
                  breaker_open_until = $5, paused_at = $6 WHERE peer_id = $1`,
          [e.peer_id, h.state, h.consecutiveFailures, h.failingSince, h.breakerOpenUntil, h.pausedAt],
        );
      }
      return paused;
    });
  }

  /** Gives up leases (a replica stopping): the deliveries are claimable again at once. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE outbound_deliveries SET lease_until = NULL WHERE id = ANY ($1::uuid[])`, [
      ids,
    ]);
  }

  /** Newest first; `before` is the last id of the previous page (keyset on created_at, id). */
  async list(q: {
    status?: DeliveryStatus;
    peerId?: string;
    limit: number;
    before?: string;
  }): Promise<{ items: DeliveryView[]; next: string | null }> {
    const rows = await this.db.query<Row>(
      `SELECT d.* FROM outbound_deliveries d
        WHERE ($1::text IS NULL OR d.status = $1) AND ($2::text IS NULL OR d.peer_id = $2)
          AND ($3::uuid IS NULL OR (d.created_at, d.id) <
               (SELECT created_at, id FROM outbound_deliveries WHERE id = $3))
        ORDER BY d.created_at DESC, d.id DESC LIMIT $4`,
      [q.status ?? null, q.peerId ?? null, q.before ?? null, q.limit + 1],
    );
    const items = rows.slice(0, q.limit).map((r) => view(r));
    return { items, next: rows.length > q.limit ? items[items.length - 1].id : null };
  }

  async get(id: string): Promise<DeliveryView> {
    const [row] = await this.db.query<Row>(`SELECT * FROM outbound_deliveries WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError(`No outbound delivery "${id}".`);
    return view(row, true);
  }

  /**
   * A dead letter goes out again: pending, due now, with a fresh 24-hour retry window. Only failed deliveries
   * replay (a delivered one would be a duplicate the site did not ask for; a pending one is already going).
   */
  async replay(id: string, now: Date): Promise<DeliveryView> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<Row>(`SELECT status FROM outbound_deliveries WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      if (!row) throw new NotFoundError(`No outbound delivery "${id}".`);
      if (row.status !== 'failed') {
        throw new ConflictError(
          `Delivery ${id} is ${String(row.status)}; only failed deliveries can be replayed.`,
        );
      }
      const [updated] = await tx.query<Row>(
        `UPDATE outbound_deliveries SET status = 'pending', next_attempt_at = $2, first_attempt_at = NULL,
                failed_at = NULL, lease_until = NULL
          WHERE id = $1 RETURNING *`,
        [id, now],
      );
      return view(updated);
    });
  }
}
