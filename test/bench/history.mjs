// History for the bench (issue 20, "cost must not grow with history"): set-based generate_series INSERTs that fill
// a bench database with the inbox markers and access-log records a system collects over weeks, fast (no app in
// the loop), so a phase can compare the same end-to-end pass on an empty database and on a full one.
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const ROOT = join(import.meta.dirname, '../..');
export const DAY_MS = 86_400_000;
const dist = (path) => createRequire(import.meta.url)(join(ROOT, 'dist', path));
const workerCount = () => Math.max(2, Math.min(4, cpus().length));

/** Runs `run(client, lo, hi)` over [0, rows) split in `workers` slices, one connection each, in parallel. */
async function inParallel(url, rows, workers, run) {
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query('SET synchronous_commit = off');
        const lo = Math.floor((rows * w) / workers);
        const hi = Math.floor((rows * (w + 1)) / workers) - 1;
        if (hi >= lo) await run(c, lo, hi);
      } finally {
        await c.end();
      }
    }),
  );
}

/**
 * Inserts `rows` access_log records over fill.days days ending at `anchor`, in time order (as a gateway writes
 * them): day partitions first (AccessLogPartitions.ensure, the code the console's maintenance runs), then one
 * INSERT … SELECT generate_series per worker, each over a contiguous slice of time (so of partitions), in
 * parallel. Peers are skewed (peer k = floor(fill.peers·u³)); services by peer kind; ~96 % accepted (with an
 * event id), the rest rejected or failed with their codes; 1 % unauthenticated (no peer); 0.5 % outbound.
 * Returns the number of workers.
 */
export async function insertAccessLog(url, rows, anchor, fill) {
  const { AccessLogPartitions } = dist('libs/access-log/src/access-log.partitions.js');
  const partitions = new AccessLogPartitions({ database: { url }, accessLog: { retentionDays: 180 } });
  const from = new Date(anchor.getTime() - fill.days * DAY_MS);
  try {
    // Also the days the console's maintenance would make ahead, so its first pass has nothing to do.
    await partitions.ensure(from, new Date(anchor.getTime() + 8 * DAY_MS));
  } finally {
    await partitions.close();
  }
  const workers = workerCount();
  const stepMs = (fill.days * DAY_MS) / rows;
  const sql = `
    INSERT INTO access_log (id, direction, peer_id, service, method, started_at, duration_ms, result,
                            http_status, error_code, event_id, client_ip, bytes_in, bytes_out, correlation_id,
                            body_hash, body)
    SELECT gen_random_uuid(),
           CASE WHEN g.o THEN 'outbound' ELSE 'inbound' END,
           CASE WHEN g.o OR g.u THEN NULL ELSE 'peer-' || lpad(g.p::text, 3, '0') END,
           CASE WHEN g.o THEN CASE WHEN g.s < 0.5 THEN 'alerts.webhook' ELSE 'crm.contacts.push' END
                WHEN g.p < ${fill.websitePeers} THEN '/v1/website/orders'
                WHEN g.s < 0.8 THEN '/v1/telephony/events'
                WHEN g.s < 0.9 THEN '/v1/telephony/cdr'
                ELSE '/v1/providers/:provider/:peerId' END,
           'POST',
           g.t,
           (1.5 + 40 * power(g.s, 6))::real,
           CASE WHEN g.r < 0.96 THEN 'accepted' WHEN g.r < 0.995 THEN 'rejected' ELSE 'failed' END,
           CASE WHEN g.r < 0.96 THEN CASE WHEN g.o THEN 200 ELSE 202 END
                WHEN g.r < 0.975 THEN 400 WHEN g.r < 0.985 THEN 401 WHEN g.r < 0.99 THEN 429
                WHEN g.r < 0.995 THEN 403 ELSE 503 END,
           CASE WHEN g.r < 0.96 THEN NULL
                WHEN g.r < 0.975 THEN 'VALIDATION_FAILED' WHEN g.r < 0.985 THEN 'AUTH_INVALID'
                WHEN g.r < 0.99 THEN 'RATE_LIMITED' WHEN g.r < 0.995 THEN 'AUTH_SCOPE_DENIED'
                ELSE 'BROKER_UNAVAILABLE' END,
           CASE WHEN g.r < 0.96 AND NOT g.o THEN gen_random_uuid() END,
           ('10.' || (g.p % 250) || '.' || (g.i % 4) || '.' || (1 + g.i % 200))::inet,
           CASE WHEN g.o THEN 300 ELSE 400 + (g.s * 1600)::int END,
           CASE WHEN g.r < 0.96 THEN 64 ELSE 220 END,
           'req-' || to_hex(g.i),
           encode(sha256(int8send(g.i)), 'hex'),
           NULL
      FROM (SELECT g0.*, CASE WHEN g0.u THEN 0.98 ELSE g0.r0 END AS r
              FROM (SELECT i,
                           $1::timestamptz - (($2::bigint - 1 - i) * $3::float8) * interval '1 millisecond' AS t,
                           floor($4::int * power(random(), 3))::int AS p,
                           random() AS r0, random() AS s, random() < 0.005 AS o, random() < 0.01 AS u
                      FROM generate_series($5::bigint, $6::bigint) i) g0) g`;
  await inParallel(url, rows, workers, (c, lo, hi) =>
    c.query(sql, [anchor, rows, stepMs, fill.peers, lo, hi]),
  );
  return workers;
}

/**
 * Inserts `rows` inbox markers (processed_events) received over `days` days ending at `anchor`, in time order,
 * into their day partitions (InboxPartitions.ensure first, also the days maintenance makes ahead). Each marker
 * is what a connector writes: a UUIDv7 event id carrying its receipt time, received_on its UTC day, and an
 * idempotency key of its own. 70 % are the website connector's orders from `peerId` (the peer the bench then
 * posts as, so the pass's lookups share their index prefix with the history), the rest leads, customers and
 * call events of other peers. Returns the number of workers.
 */
export async function insertInbox(url, rows, anchor, { days, peerId }) {
  const { InboxPartitions } = dist('libs/database/src/inbox-partitions.js');
  const partitions = new InboxPartitions({ database: { url, idempotencyWindowDays: days } });
  try {
    await partitions.ensure(
      new Date(anchor.getTime() - days * DAY_MS),
      new Date(anchor.getTime() + 8 * DAY_MS),
    );
  } finally {
    await partitions.close();
  }
  const workers = workerCount();
  const stepMs = (days * DAY_MS) / rows;
  const sql = `
    INSERT INTO processed_events (consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome,
                                  processed_at, received_on)
    SELECT CASE WHEN g.s < 0.7 THEN 'website-connector' WHEN g.s < 0.8 THEN 'website-connector:leads'
                WHEN g.s < 0.85 THEN 'website-connector:customers' ELSE 'telephony-connector' END,
           g.id, CASE WHEN g.s < 0.7 THEN $4 ELSE 'hist-peer-' || (g.i % 50) END,
           CASE WHEN g.s < 0.7 THEN 'order:H-' || g.i || '@' || to_char(g.t, 'YYYY-MM-DD"T"HH24:MI:SS') || ':new'
                ELSE 'hist:' || g.i END,
           CASE WHEN g.s < 0.7 THEN 'website.order.created' WHEN g.s < 0.8 THEN 'website.lead.submitted'
                WHEN g.s < 0.85 THEN 'website.customer.updated' ELSE 'telephony.call.event' END,
           md5(g.i::text), 'created', g.t + interval '40 milliseconds', uuid_v7_day(g.id, g.t)
      FROM (SELECT i, t, s,
                   (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3) || '8'
                    || substr(h, 4, 15))::uuid AS id
              FROM (SELECT i, $1::timestamptz - (($2::bigint - 1 - i) * $3::float8) * interval '1 millisecond' AS t,
                           random() AS s, md5(random()::text) AS h
                      FROM generate_series($5::bigint, $6::bigint) i) g0) g`;
  await inParallel(url, rows, workers, (c, lo, hi) => c.query(sql, [anchor, rows, stepMs, peerId, lo, hi]));
  return workers;
}

/**
 * The history of a system that has run for `days` days: `rows` inbox markers and `rows` access-log records,
 * then VACUUM (ANALYZE) as autovacuum would long have done, and a CHECKPOINT so the fill's writes do not land in
 * the measured pass. Returns timings and sizes.
 */
export async function fillHistory(
  url,
  { rows, anchor = new Date(), days = 30, peerId, log = () => undefined },
) {
  const t0 = Date.now();
  await insertInbox(url, rows, anchor, { days, peerId });
  const inboxSeconds = (Date.now() - t0) / 1000;
  log(`history: ${rows} inbox markers in ${inboxSeconds} s`);
  const t1 = Date.now();
  await insertAccessLog(url, rows, anchor, { days, peers: 200, websitePeers: 150 });
  const accessLogSeconds = (Date.now() - t1) / 1000;
  log(`history: ${rows} access-log records in ${accessLogSeconds} s; vacuum, analyze, checkpoint`);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const t2 = Date.now();
    await c.query('VACUUM (ANALYZE) processed_events, access_log');
    const vacuumSeconds = (Date.now() - t2) / 1000;
    await c.query('CHECKPOINT').catch((err) => log(`history: no checkpoint (${err.message})`));
    const size = async (table) =>
      Number(
        (
          await c.query(
            `SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::float8 AS b
               FROM pg_inherits i WHERE i.inhparent = $1::regclass`,
            [table],
          )
        ).rows[0].b,
      );
    const inboxBytes = await size('processed_events');
    return {
      rows,
      days,
      inboxSeconds,
      accessLogSeconds,
      vacuumSeconds,
      inboxMB: Math.round(inboxBytes / 1048576),
      inboxBytesPerMarker: Math.round(inboxBytes / rows),
      accessLogMB: Math.round((await size('access_log')) / 1048576),
    };
  } finally {
    await c.end();
  }
}
