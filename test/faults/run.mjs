// npm run faults [-- --quick] [--only a,c] [--rate N] [--workers N] [--pg-port P] [--amqp-port P] [--root DIR]
//                [--report PREFIX] [--keep-db] [--keep-servers]
// Fault scenarios under load, each ending with a checker that compares every 202-accepted event against the CRM
// database (lost and duplicated counts, in the spirit of Jepsen's set checker):
//   a  SIGKILL both connectors mid-load, restart them 2 s later
//   b  restart RabbitMQ mid-load
//   c  PostgreSQL stopped for 30 s mid-load (--quick: 10 s)
//   d  gateway SIGTERM mid-load: every request in flight ends 202 or 503 SHUTTING_DOWN, at least one 202, exit
//      code 0 (verdicts.mjs); then it is restarted
//   e  poison messages mixed in: orders that fail every attempt (FAULT_FAIL_ORDER_PREFIX) and malformed raw
//      publishes; each must end in its connector's .dlq, and nothing healthy may be held up or lost
// Runs on its OWN PostgreSQL + RabbitMQ (config/stack/stack.mjs under <root>, default .data/faults, ports
// 56432/56672; --quick: .data/faults-quick, 56442/56682), never on the shared development servers; each scenario
// gets a fresh database and broker namespace. The load is website orders (POST /v1/website/orders, unique
// externalId) and call detail records (POST /v1/telephony/cdr, unique providerCallId) at a steady rate from a
// pool of workers; a request answered 503 or failing at the connection is retried with the same
// Idempotency-Key (as a peer would), and an event counts as accepted once any attempt got a 202.
// Writes <report>.json/.md (default .data/faults-report) and exits non-zero when a scenario fails.
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import {
  amqpReady,
  createDatabase,
  pgReady,
  startPostgres,
  startRabbit,
  stopPostgres,
  stopRabbit,
} from '../../config/stack/stack.mjs';
import { freePort, sleep, spawnLogged, waitHealthy } from '../support/processes.mjs';
import { gatewayShutdownProblems } from './verdicts.mjs';

const ROOT = join(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  if (eq) return eq.slice(name.length + 3);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const QUICK = args.includes('--quick');
/** Durations in seconds. pre: load before the fault; post: load after the fault ended. */
const T = QUICK
  ? { pre: 3, post: 3, pgOutage: 10, connectorDown: 2, gatewayDown: 1, poisonLoad: 8, drain: 60, grace: 10 }
  : {
      pre: 15,
      post: 20,
      pgOutage: 30,
      connectorDown: 2,
      gatewayDown: 1,
      poisonLoad: 40,
      drain: 180,
      grace: 20,
    };
const RATE = Number(flag('rate', QUICK ? 60 : 100)); // requests started per second (orders + CDRs)
const WORKERS = Number(flag('workers', 32));
const CDR_SHARE = 0.4;
const POISON_SHARE = 0.05; // of the requests in scenario e
const RAW_POISON_EVERY_MS = QUICK ? 400 : 1000;
const PG_PORT = Number(flag('pg-port', QUICK ? 56442 : 56432));
const AMQP_PORT = Number(flag('amqp-port', QUICK ? 56682 : 56672));
const SERVER_ROOT = resolve(flag('root', join(ROOT, '.data', QUICK ? 'faults-quick' : 'faults')));
const REPORT = resolve(flag('report', join(ROOT, '.data', 'faults-report')));
const LOG_DIR = join(SERVER_ROOT, 'logs');
const POISON_PREFIX = 'POISON-';
const WEBSITE_PEER = 'fault-shop';
const TELEPHONY_PEER = 'fault-pbx';
const CONNECTORS = ['website-connector', 'telephony-connector'];
// The apps run with NODE_ENV=test (config/test.json: retry ladder 200 ms, 400 ms; the fault injector is live).
const RETRY_DELAYS = JSON.parse(readFileSync(join(ROOT, 'config/test.json'), 'utf8')).amqp.retryDelaysMs;
const PORT_ENV = {
  gateway: 'GATEWAY_PORT',
  'website-connector': 'WEBSITE_CONNECTOR_PORT',
  'telephony-connector': 'TELEPHONY_CONNECTOR_PORT',
};
const SHARED = { pg: [55432], amqp: [55672, 55673, 55674] }; // the shared development servers: never ours

const log = (m) => process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const secs = (ms) => Math.round(ms / 100) / 10;
const runId = randomBytes(3).toString('hex');
const SAMPLE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/website/order.sample.json'), 'utf8'));
const secrets = {
  SWITCHBOARD_PEPPER: randomBytes(32).toString('base64'),
  SWITCHBOARD_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
};

// ---------------------------------------------------------------- servers (ours only)
let amqpUrl = '';
let pgBaseUrl = '';
const serverLog = (m) => log(m.replace(/^\[stack\] /, 'stack: '));

async function startServers() {
  const ours = new Set([PG_PORT, AMQP_PORT, AMQP_PORT + 1, AMQP_PORT + 2]);
  if (SHARED.pg.some((p) => ours.has(p)) || SHARED.amqp.some((p) => ours.has(p))) {
    throw new Error(`ports ${[...ours].join(', ')} overlap the shared servers (55432, 55672-55674)`);
  }
  mkdirSync(SERVER_ROOT, { recursive: true });
  // A broker answering on our port that is not our node (e.g. another run's): refuse rather than share it.
  if (await amqpReady('127.0.0.1', AMQP_PORT)) {
    await stopRabbit(SERVER_ROOT).catch(() => false); // our own leftover from an interrupted run
    if (await amqpReady('127.0.0.1', AMQP_PORT))
      throw new Error(`port ${AMQP_PORT} is taken by another broker`);
  }
  pgBaseUrl = await startPostgres(SERVER_ROOT, { pgPort: PG_PORT, log: serverLog });
  amqpUrl = await startRabbit(SERVER_ROOT, { amqpPort: AMQP_PORT, log: serverLog });
}

let stopping = null;
/** Stops our apps and our two servers; idempotent. */
function stopEverything() {
  stopping ??= (async () => {
    for (const app of liveApps) app.proc.kill('SIGKILL');
    if (args.includes('--keep-servers')) return;
    await Promise.allSettled([stopRabbit(SERVER_ROOT), stopPostgres(SERVER_ROOT)]);
    if ((await pgReady('127.0.0.1', PG_PORT)) || (await amqpReady('127.0.0.1', AMQP_PORT)))
      log('warning: a server still answers on our ports after stopping');
  })();
  return stopping;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping our apps and servers`);
    void stopEverything().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- apps
const liveApps = new Set();

class App {
  constructor(name, ctx) {
    this.name = name;
    this.ctx = ctx;
    this.proc = null;
    this.exit = null;
  }
  get url() {
    return `http://127.0.0.1:${this.ctx.ports[this.name]}`;
  }
  async start() {
    const logFile = join(LOG_DIR, `${this.ctx.id}-${this.name}.log`);
    const argv = [join(ROOT, 'dist/apps', this.name, 'src/main.js')];
    const proc = spawnLogged(argv, { env: appEnv(this.ctx, this.name), cwd: ROOT, logFile, append: true });
    this.proc = proc;
    liveApps.add(this);
    this.exit = new Promise((r) =>
      proc.once('exit', (code, signal) => {
        liveApps.delete(this);
        r({ code, signal });
      }),
    );
    await waitHealthy(proc, this.url, { name: this.name, logFile });
    return this;
  }
  /** Sends `signal`; resolves { code, signal } once gone (SIGKILL after `graceMs`). */
  async stop(signal = 'SIGTERM', graceMs = 15_000) {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exit;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const r = await this.exit;
    clearTimeout(t);
    return r;
  }
}

function appEnv(ctx, app) {
  // Only what the apps need: nothing from this shell may point them at the shared servers.
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    SWITCHBOARD_CONFIG_DIR: join(ROOT, 'config'),
    DATABASE_URL: ctx.databaseUrl,
    AMQP_URL: amqpUrl,
    AMQP_NAMESPACE: ctx.ns,
    ADMIN_TOKEN: ctx.adminToken,
    ...secrets,
    LOG_LEVEL: 'warn',
    GATEWAY_HOST: '127.0.0.1',
    // Not scraped here: any free port, so runs side by side never collide on the default.
    GATEWAY_METRICS_PORT: '0',
    CONSOLE_METRICS_PORT: '0',
    FAULT_FAIL_ORDER_PREFIX: POISON_PREFIX,
    [PORT_ENV[app]]: String(ctx.ports[app]),
  };
}

function cli(ctx, ...argv) {
  return new Promise((res, rej) =>
    execFile(
      process.execPath,
      [join(ROOT, 'dist/apps/console/src/cli.js'), ...argv, '--json'],
      { env: appEnv(ctx, 'console'), cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return rej(new Error(`cli ${argv.slice(0, 2).join(' ')}: ${stderr || err.message}`));
        try {
          res(JSON.parse(stdout));
        } catch (e) {
          rej(new Error(`cli ${argv.slice(0, 2).join(' ')}: unexpected output (${e.message})`));
        }
      },
    ),
  );
}

// ---------------------------------------------------------------- load
let seq = 0;
function makeEvent(kind) {
  seq += 1;
  const n = String(seq).padStart(7, '0');
  if (kind === 'cdr') {
    const callId = `F-${runId}-${n}`;
    const started = Date.parse('2026-11-23T10:00:00Z') + seq * 1000;
    return {
      kind,
      key: callId,
      idem: `cdr:${callId}`,
      path: '/v1/telephony/cdr',
      token: 'telephony',
      body: JSON.stringify({
        provider: 'generic',
        providerCallId: callId,
        direction: 'inbound',
        from: `+7903${n}`,
        to: '+74950000001',
        startedAt: new Date(started).toISOString(),
        endedAt: new Date(started + 60_000).toISOString(),
        disposition: 'answered',
        durationSeconds: 60,
        billSeconds: 50,
      }),
    };
  }
  const externalId = `${kind === 'poison' ? POISON_PREFIX : 'F-'}${runId}-${n}`;
  return {
    kind,
    key: externalId,
    idem: `order:${externalId}`,
    path: '/v1/website/orders',
    token: 'website',
    body: JSON.stringify({
      ...SAMPLE,
      externalId,
      customer: { name: 'Fault Customer', phone: `+7916${n}`, email: `f${n}@faults.example` },
    }),
  };
}

/** A request's outcome as a label: 202, `503 CODE`, `conn ECONNREFUSED`, `timeout`, `500 CODE`... */
async function attemptOnce(url, ev, token) {
  try {
    const res = await fetch(url + ev.path, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': ev.idem,
      },
      body: ev.body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: recorded by status
    }
    const problem = (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
    return {
      status: res.status,
      label:
        res.status === 202
          ? '202'
          : `${res.status} ${json?.code ?? '-'}${problem ? '' : ' (not problem+json)'}`,
      eventId: json?.eventId,
      retryAfter: Number(res.headers.get('retry-after')) || 0,
    };
  } catch (err) {
    const code = err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.cause?.name ?? err.name);
    return { status: 0, label: `conn ${code}` };
  }
}

/**
 * Workers sending at a steady `rate` (a slot every 1000/rate ms; a stalled pipeline does not build up a burst
 * beyond 250 ms). Each event is retried with its Idempotency-Key on 5xx/429/connection errors until it gets a
 * 202, for as long as the load runs and `grace` seconds after it stopped.
 */
function startLoad({ url, tokens, rate, workers, poisonShare = 0, grace }) {
  const events = [];
  const outcomes = {};
  const inflight = new Set();
  const acks = []; // ack times, in order
  const history = []; // every attempt: { sentAt, doneAt, label }
  let stopped = false;
  let retryDeadline = Infinity;
  const interval = 1000 / rate;
  let lastSlot = performance.now() - interval;
  const nextSlot = () => (lastSlot = Math.max(lastSlot + interval, performance.now() - 250));

  async function deliver(ev) {
    for (let n = 1; ; n++) {
      const a = { ev, sentAt: Date.now(), result: null };
      inflight.add(a);
      a.result = await attemptOnce(url, ev, tokens[ev.token]);
      inflight.delete(a);
      const r = a.result;
      history.push({ sentAt: a.sentAt, doneAt: Date.now(), label: r.label });
      ev.attempts = n;
      outcomes[r.label] = (outcomes[r.label] ?? 0) + 1;
      if (r.status === 202) {
        ev.ackedAt = Date.now();
        ev.eventId = r.eventId;
        acks.push(ev.ackedAt);
        return;
      }
      if (!(r.status === 0 || r.status === 429 || r.status >= 500)) {
        ev.refused = r.label; // a 4xx: the harness sent something wrong
        return;
      }
      if (Date.now() > retryDeadline) {
        ev.gaveUp = r.label;
        return;
      }
      const backoff = r.retryAfter ? r.retryAfter * 1000 : Math.min(100 * 2 ** n, 1000);
      await sleep(Math.min(backoff, 2000) * (0.5 + Math.random() / 2));
    }
  }
  async function worker() {
    while (!stopped) {
      const wait = nextSlot() - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      const r = Math.random();
      const ev = makeEvent(r < poisonShare ? 'poison' : r < poisonShare + CDR_SHARE ? 'cdr' : 'order');
      ev.createdAt = Date.now();
      events.push(ev);
      await deliver(ev);
    }
  }
  const running = Array.from({ length: workers }, () => worker());
  /**
   * One order whose head and first half the gateway has already read: in flight at the server whatever the
   * timing (at this rate and latency the load alone often has none there at a given instant). `finish()`
   * sends the rest; the answer is recorded like the load's own, without retries.
   */
  function halfSent() {
    const ev = makeEvent('order');
    ev.createdAt = Date.now();
    events.push(ev);
    const body = Buffer.from(ev.body);
    const target = new URL(url + ev.path);
    const a = { ev, sentAt: Date.now(), result: null };
    inflight.add(a);
    const req = httpRequest({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens[ev.token]}`,
        'content-type': 'application/json',
        'content-length': body.length,
        'idempotency-key': ev.idem,
      },
    });
    const answered = new Promise((done) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let code = '-';
          try {
            code = JSON.parse(text).code ?? '-';
          } catch {
            // not JSON
          }
          done({
            status: res.statusCode,
            label: res.statusCode === 202 ? '202' : `${res.statusCode} ${code}`,
          });
        });
      });
      req.on('error', (err) => done({ status: 0, label: `conn ${err.code ?? err.name}` }));
    }).then((r) => {
      a.result = r;
      inflight.delete(a);
      history.push({ sentAt: a.sentAt, doneAt: Date.now(), label: r.label });
      ev.attempts = 1;
      outcomes[r.label] = (outcomes[r.label] ?? 0) + 1;
      if (r.status === 202) {
        ev.ackedAt = Date.now();
        acks.push(ev.ackedAt);
      } else ev.gaveUp = r.label;
      return r;
    });
    req.flushHeaders();
    req.write(body.subarray(0, body.length >> 1));
    return { finish: () => req.end(body.subarray(body.length >> 1)), answered };
  }
  return {
    events,
    outcomes,
    inflight,
    history,
    halfSent,
    startedAt: Date.now(),
    /** Events acknowledged (202) at or before `t`. */
    ackedBy: (t) => events.filter((e) => e.ackedAt && e.ackedAt <= t),
    firstAckAfter: (t) => acks.find((x) => x >= t) ?? null,
    async stop() {
      stopped = true;
      this.stoppedAt = Date.now();
      retryDeadline = Date.now() + grace * 1000;
      await Promise.all(running);
    },
  };
}

/** Scenario e: malformed messages straight onto the exchange (not JSON, or an envelope failing its contract). */
function startRawPoison(ns, everyMs) {
  const sent = [];
  let stopped = false;
  let failed = 0;
  const done = (async () => {
    const conn = await amqp.connect(amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      for (let n = 1; !stopped; n++) {
        const id = `raw-${runId}-${n}`;
        const [routingKey, content] = [
          ['website.order.submitted', `not json at all ${id}`],
          ['telephony.call.completed', `{"truncated": "${id}"`],
          [
            'website.order.submitted',
            JSON.stringify(envelope(id, 'website.order.submitted', { externalId: 42 })),
          ],
          [
            'telephony.call.completed',
            JSON.stringify(envelope(id, 'telephony.call.completed', { provider: '' })),
          ],
        ][n % 4];
        const ok = await new Promise((r) =>
          ch.publish(
            `${ns}.events`,
            routingKey,
            Buffer.from(content),
            { messageId: id, persistent: true },
            (err) => r(!err),
          ),
        );
        if (ok)
          sent.push({ id, connector: routingKey.startsWith('website') ? CONNECTORS[0] : CONNECTORS[1] });
        else failed += 1;
        await sleep(everyMs);
      }
    } finally {
      await conn.close().catch(() => undefined);
    }
  })();
  return {
    sent,
    async stop() {
      stopped = true;
      await done;
      return { confirmed: sent.length, failed };
    },
  };
}
const envelope = (traceId, type, payload) => ({
  id: randomUUID(),
  type,
  peerId: 'raw-publisher',
  idempotencyKey: traceId,
  occurredAt: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  schemaVersion: 1,
  traceId,
  payload,
});

// ---------------------------------------------------------------- broker and database views
async function withChannel(fn) {
  const conn = await amqp.connect(amqpUrl);
  try {
    return await fn(await conn.createChannel());
  } finally {
    await conn.close().catch(() => undefined);
  }
}
const workQueues = (ns) =>
  CONNECTORS.flatMap((c) => [`${ns}.${c}`, ...RETRY_DELAYS.map((d) => `${ns}.${c}.retry.${d}ms`)]);
const dlqOf = (ns, c) => `${ns}.${c}.dlq`;

/** Ready messages per queue (checkQueue does not count unacked ones: the DB side closes that gap). */
const depths = (ns) =>
  withChannel(async (ch) => {
    const out = {};
    for (const q of [...workQueues(ns), ...CONNECTORS.map((c) => dlqOf(ns, c))])
      out[q] = (await ch.checkQueue(q)).messageCount;
    return out;
  });

/** Drains both DLQs and classifies each dead letter: raw poison (by id), poison order (by externalId) or other. */
async function takeDeadLetters(ns) {
  return withChannel(async (ch) => {
    const out = [];
    for (const c of CONNECTORS) {
      for (
        let m = await ch.get(dlqOf(ns, c), { noAck: true });
        m;
        m = await ch.get(dlqOf(ns, c), { noAck: true })
      ) {
        const text = m.content.toString();
        const h = m.properties.headers ?? {};
        let externalId = null;
        try {
          externalId = JSON.parse(text)?.payload?.externalId ?? null;
        } catch {
          // malformed on purpose
        }
        out.push({
          connector: c,
          raw: /raw-[0-9a-f]+-\d+/.exec(text)?.[0] ?? null,
          externalId: typeof externalId === 'string' ? externalId : null,
          code: h['x-error-code'],
          attempts: h['x-attempts'],
        });
      }
    }
    return out;
  });
}

function dbPool(url) {
  const pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined); // the server going away (scenario c) must not crash the harness
  return pool;
}

/** How many of the given orders / CDRs the CRM holds (one query each). */
async function presentCounts(pool, orders, cdrs) {
  const [o, c] = await Promise.all([
    pool.query(`SELECT count(*)::int n FROM deals WHERE peer_id = $1 AND external_id = ANY($2)`, [
      WEBSITE_PEER,
      orders,
    ]),
    pool.query(
      `SELECT count(*)::int n FROM call_logs WHERE peer_id = $1 AND provider = 'generic' AND call_key = ANY($2)`,
      [TELEPHONY_PEER, cdrs],
    ),
  ]);
  return o.rows[0].n + c.rows[0].n;
}

/**
 * The checker: every acknowledged order must be exactly one deal (with its 2 items and one processed_events
 * marker for its idempotency key); every acknowledged CDR exactly one call log holding exactly one call event.
 * Effects beyond that (a second contact, lead, item or timeline row) count as duplicates too.
 */
async function check(pool, load, deadLetters, rawSent) {
  const acked = load.events.filter((e) => e.ackedAt);
  const orders = acked.filter((e) => e.kind === 'order').map((e) => e.key);
  const cdrs = acked.filter((e) => e.kind === 'cdr').map((e) => e.key);
  const q = async (sql, params) => (await pool.query(sql, params)).rows;
  const [deals] = await q(
    `SELECT count(*) FILTER (WHERE n = 0)::int lost, count(*) FILTER (WHERE n > 1)::int dup,
            count(*) FILTER (WHERE items > 2 * n)::int "extraItems", count(*) FILTER (WHERE items < 2 * n)::int "missingItems",
            count(*) FILTER (WHERE markers = 0)::int "noMarker", count(*) FILTER (WHERE markers > 1)::int "extraMarkers"
       FROM (SELECT x.k, (SELECT count(*) FROM deals d WHERE d.peer_id = $1 AND d.external_id = x.k) n,
                    (SELECT count(*) FROM deals d JOIN deal_items i ON i.deal_id = d.id
                      WHERE d.peer_id = $1 AND d.external_id = x.k) items,
                    (SELECT count(*) FROM processed_events p
                      WHERE p.peer_id = $1 AND p.idempotency_key = 'order:' || x.k) markers
               FROM unnest($2::text[]) x(k)) s`,
    [WEBSITE_PEER, orders],
  );
  const [calls] = await q(
    `SELECT count(*) FILTER (WHERE logs = 0)::int lost, count(*) FILTER (WHERE logs > 1)::int dup,
            count(*) FILTER (WHERE events > 1 OR event_count > 1)::int "extraEvents",
            count(*) FILTER (WHERE logs > 0 AND markers = 0)::int "noMarker", count(*) FILTER (WHERE markers > 1)::int "extraMarkers"
       FROM (SELECT x.k, count(DISTINCT l.id) logs, count(e.id) events, max(l.event_count) event_count,
                    (SELECT count(*) FROM processed_events p
                      WHERE p.peer_id = $1 AND p.idempotency_key = 'cdr:' || x.k) markers
               FROM unnest($2::text[]) x(k)
               LEFT JOIN call_logs l ON l.peer_id = $1 AND l.provider = 'generic' AND l.call_key = x.k
               LEFT JOIN call_events e ON e.call_log_id = l.id
              GROUP BY x.k) s`,
    [TELEPHONY_PEER, cdrs],
  );
  // Side effects created once per fact: a contact per order (unique phone), a lead per CDR (unknown caller).
  const [side] = await q(
    `SELECT (SELECT count(*) FROM contacts)::int - (SELECT count(DISTINCT contact_id) FROM deals)::int "extraContacts",
            (SELECT count(*) FROM leads WHERE source_channel = 'phone call')::int
              - (SELECT count(*) FROM call_logs WHERE lead_created)::int "extraLeads",
            (SELECT count(*) FROM deals WHERE external_id LIKE $1)::int "poisonDeals"`,
    [`${POISON_PREFIX}%`],
  );
  // Not acknowledged (every attempt failed) yet in the CRM: legitimate (e.g. confirmed after the gateway gave up).
  const unacked = load.events.filter((e) => !e.ackedAt && e.kind !== 'poison');
  const unackedPresent = unacked.length
    ? await presentCounts(
        pool,
        unacked.filter((e) => e.kind === 'order').map((e) => e.key),
        unacked.filter((e) => e.kind === 'cdr').map((e) => e.key),
      )
    : 0;

  const poisonAcked = new Set(acked.filter((e) => e.kind === 'poison').map((e) => e.key));
  const rawIds = new Set(rawSent.map((r) => r.id));
  const foundPoison = new Set();
  const foundRaw = new Set();
  const unexpected = [];
  for (const d of deadLetters) {
    if (d.raw && rawIds.has(d.raw)) foundRaw.add(d.raw);
    else if (d.externalId?.startsWith(POISON_PREFIX)) foundPoison.add(d.externalId);
    else unexpected.push(d);
  }
  const poisonExpected = poisonAcked.size + rawIds.size;
  const poisonFound = [...poisonAcked].filter((k) => foundPoison.has(k)).length + foundRaw.size;

  const lost = deals.lost + calls.lost + deals.missingItems;
  const duplicated =
    deals.dup +
    calls.dup +
    deals.extraItems +
    calls.extraEvents +
    deals.extraMarkers +
    calls.extraMarkers +
    Math.max(0, side.extraContacts) +
    Math.max(0, side.extraLeads);
  return {
    accepted: orders.length + cdrs.length,
    acceptedOrders: orders.length,
    acceptedCdrs: cdrs.length,
    lost,
    duplicated,
    orders: deals,
    cdrs: calls,
    sideEffects: side,
    markersMissing: deals.noMarker + calls.noMarker,
    unacknowledged: unacked.length,
    unacknowledgedButProcessed: unackedPresent,
    refused: load.events.filter((e) => e.refused).length,
    poison: {
      acceptedOrders: poisonAcked.size,
      rawConfirmed: rawIds.size,
      expected: poisonExpected,
      inDlq: poisonFound,
      missing: poisonExpected - poisonFound,
      deadLetterCodes: tally(deadLetters.map((d) => d.code)),
    },
    unexpectedDeadLetters: unexpected.length,
    unexpectedDeadLetterSamples: unexpected.slice(0, 5),
  };
}
function windows(history, t0) {
  const w = {};
  for (const h of history) {
    if (h.label === '202') continue;
    const t = secs(h.sentAt - t0);
    w[h.label] ??= [t, t];
    w[h.label][1] = t;
  }
  return Object.fromEntries(Object.entries(w).map(([k, [a, b]]) => [k, `${a}..${b} s`]));
}
const tally = (xs) => xs.reduce((a, x) => ((a[x] = (a[x] ?? 0) + 1), a), {});

// ---------------------------------------------------------------- scenarios
const SCENARIOS = {
  a: {
    name: 'connectors SIGKILL + restart',
    async fault(ctx) {
      await Promise.all(CONNECTORS.map((c) => ctx.apps[c].stop('SIGKILL')));
      ctx.note(`both connectors SIGKILLed; restart in ${T.connectorDown} s`);
      await sleep(T.connectorDown * 1000);
      await Promise.all(CONNECTORS.map((c) => ctx.apps[c].start()));
    },
  },
  b: {
    name: 'RabbitMQ restart',
    async fault(ctx) {
      await stopRabbit(SERVER_ROOT);
      ctx.note(`broker stopped after ${secs(Date.now() - ctx.faultStartedAt)} s`);
      await startRabbit(SERVER_ROOT, { amqpPort: AMQP_PORT, log: serverLog });
      ctx.note(`broker up again after ${secs(Date.now() - ctx.faultStartedAt)} s`);
    },
  },
  c: {
    name: `PostgreSQL stopped ${T.pgOutage} s`,
    async fault(ctx) {
      await stopPostgres(SERVER_ROOT);
      ctx.note(`PostgreSQL stopped; starting it again in ${T.pgOutage} s`);
      await sleep(T.pgOutage * 1000);
      await startPostgres(SERVER_ROOT, { pgPort: PG_PORT, log: serverLog });
    },
  },
  d: {
    name: 'gateway SIGTERM + restart',
    async fault(ctx) {
      const gw = ctx.apps.gateway;
      // A request the gateway is reading when the signal comes, so the drain is always exercised.
      const half = ctx.load.halfSent();
      await sleep(100);
      const inFlight = [...ctx.load.inflight];
      const stopping = gw.stop('SIGTERM', 30_000);
      await sleep(50);
      half.finish();
      await half.answered;
      const exit = await stopping;
      const exitedAt = Date.now();
      const ended = tally(inFlight.map((a) => a.result?.label ?? 'unfinished'));
      ctx.gatewayExitedAt = exitedAt;
      const problems = gatewayShutdownProblems({ exit, inFlightEndedAs: ended });
      ctx.result.gatewayShutdown = {
        exit,
        graceful: problems.length === 0,
        problems,
        shutdownSeconds: secs(Date.now() - ctx.faultStartedAt),
        inFlightAtSigterm: inFlight.length,
        inFlightEndedAs: ended,
      };
      ctx.note(`gateway exited (${JSON.stringify(exit)}); in flight at SIGTERM: ${JSON.stringify(ended)}`);
      await sleep(T.gatewayDown * 1000);
      await gw.start();
    },
  },
  e: {
    name: 'poison messages mixed in',
    poison: true,
    async fault() {
      await sleep(T.poisonLoad * 1000);
    },
  },
};

/** Responses the contract allows under a fault: 202, 503 problem+json with a code, 429, or no answer at all. */
const cleanOutcome = (label) =>
  label === '202' || /^(503|429) [A-Z_]+$/.test(label) || label.startsWith('conn ');

async function runScenario(id) {
  const sc = SCENARIOS[id];
  const t0 = Date.now();
  const ctx = {
    id,
    ns: `f${runId}${id}`,
    adminToken: randomBytes(16).toString('hex'),
    ports: {},
    apps: {},
    result: { id, scenario: `${id}) ${sc.name}` },
    note: (m) => log(`${id}: ${m}`),
  };
  log(`=== ${ctx.result.scenario}`);
  ctx.databaseUrl = await createDatabase(pgBaseUrl, `sb_${ctx.ns}`);
  for (const app of Object.keys(PORT_ENV)) ctx.ports[app] = await freePort();
  const rawPoison = { sent: [] };
  let pool = null;
  try {
    // The first CLI call migrates the database. Peers exist before the gateway starts (it loads them then).
    // The connectors need no peer: they start while the second one is created.
    const shop = await cli(ctx, ...peerArgs(WEBSITE_PEER, 'website'));
    for (const app of Object.keys(PORT_ENV)) ctx.apps[app] = new App(app, ctx);
    const [pbx] = await Promise.all([
      cli(ctx, ...peerArgs(TELEPHONY_PEER, 'telephony')),
      ...CONNECTORS.map((c) => ctx.apps[c].start()),
    ]);
    const tokens = { website: shop.credential.token, telephony: pbx.credential.token };
    await ctx.apps.gateway.start();
    ctx.note(`database, peers and apps ready in ${secs(Date.now() - t0)} s`);
    pool = dbPool(ctx.databaseUrl);

    const load = startLoad({
      url: ctx.apps.gateway.url,
      tokens,
      rate: RATE,
      workers: WORKERS,
      poisonShare: sc.poison ? POISON_SHARE : 0,
      grace: T.grace,
    });
    ctx.load = load;
    const raw = sc.poison ? startRawPoison(ctx.ns, RAW_POISON_EVERY_MS) : null;
    if (raw) rawPoison.sent = raw.sent;
    if (!sc.poison) await sleep(T.pre * 1000);
    ctx.faultStartedAt = Date.now();
    ctx.note(
      sc.poison ? 'load with poison' : `fault after ${secs(ctx.faultStartedAt - load.startedAt)} s of load`,
    );
    await sc.fault(ctx);
    ctx.faultEndedAt = Date.now();
    if (!sc.poison) {
      ctx.note(`fault over after ${secs(ctx.faultEndedAt - ctx.faultStartedAt)} s; load goes on ${T.post} s`);
      // A fresh pool after a database outage: the old clients are gone.
      if (id === 'c') {
        await pool.end().catch(() => undefined);
        pool = dbPool(ctx.databaseUrl);
      }
    }
    const recovery = watchRecovery(
      () => pool,
      load,
      ctx.faultEndedAt,
      !sc.poison,
      () => ctx.finished,
    );
    if (!sc.poison) await sleep(T.post * 1000);
    if (raw) ctx.result.rawPoison = await raw.stop();
    await load.stop();
    ctx.note(`load stopped: ${load.events.length} events, outcomes ${JSON.stringify(load.outcomes)}`);
    if (ctx.gatewayExitedAt) {
      // What the requests sent while the gateway was shutting down (SIGTERM .. exit) got, with times.
      const during = load.history.filter(
        (h) => h.sentAt >= ctx.faultStartedAt && h.sentAt <= ctx.gatewayExitedAt,
      );
      Object.assign(ctx.result.gatewayShutdown, {
        sentWhileClosing: tally(during.map((h) => h.label)),
        notAcceptedWhileClosing: during
          .filter((h) => h.label !== '202')
          .slice(0, 10)
          .map(
            (h) =>
              `${h.label}: sent +${h.sentAt - ctx.faultStartedAt} ms, answered +${h.doneAt - ctx.faultStartedAt} ms`,
          ),
      });
    }

    // Drain: every acknowledged event in the CRM, every poison message in a DLQ, no work queue holding anything.
    const drainStart = Date.now();
    const expectPoison =
      load.events.filter((e) => e.kind === 'poison' && e.ackedAt).length + rawPoison.sent.length;
    let last = -1;
    let stableSince = Date.now();
    let drained = false;
    for (;;) {
      const acked = load.events.filter((e) => e.ackedAt && e.kind !== 'poison');
      const [d, present] = await Promise.all([
        depths(ctx.ns),
        presentCounts(
          pool,
          acked.filter((e) => e.kind === 'order').map((e) => e.key),
          acked.filter((e) => e.kind === 'cdr').map((e) => e.key),
        ),
      ]).catch(() => [null, -1]);
      if (d) {
        const work = workQueues(ctx.ns).reduce((a, q) => a + d[q], 0);
        const dlq = CONNECTORS.reduce((a, c) => a + d[dlqOf(ctx.ns, c)], 0);
        if (work === 0 && present === acked.length && dlq >= expectPoison) {
          drained = true;
          break;
        }
        if (present !== last) [last, stableSince] = [present, Date.now()];
        // Nothing moves any more with empty queues: whatever is missing is lost; stop waiting.
        if (work === 0 && Date.now() - stableSince > 15_000) break;
      }
      if (Date.now() - drainStart > T.drain * 1000) break;
      await sleep(250);
    }
    const drainedAt = Date.now();
    await sleep(1000); // late duplicates, if any, would land now
    const recoveredAt = await Promise.race([recovery, sleep(1000).then(() => null)]);
    ctx.finished = true;
    const deadLetters = await takeDeadLetters(ctx.ns);
    const checked = await check(pool, load, deadLetters, rawPoison.sent);
    const unclean = Object.entries(load.outcomes).filter(([label]) => !cleanOutcome(label));
    Object.assign(ctx.result, {
      ...checked,
      requests: Object.values(load.outcomes).reduce((a, b) => a + b, 0),
      outcomes: load.outcomes,
      // When each kind of non-202 answer was seen: seconds from the fault's start, first .. last.
      outcomeWindows: windows(load.history, ctx.faultStartedAt),
      uncleanResponses: Object.fromEntries(unclean),
      drained,
      drainSeconds: secs(drainedAt - load.stoppedAt),
      loadSeconds: secs(load.stoppedAt - load.startedAt),
      faultSeconds: secs(ctx.faultEndedAt - ctx.faultStartedAt),
      // e: from the end of the load until every accepted event is in the CRM and every poison message in a DLQ.
      recoveredSeconds: sc.poison
        ? drained
          ? secs(drainedAt - load.stoppedAt)
          : NaN
        : secs(Math.max(0, (recoveredAt ?? (drained ? drainedAt : NaN)) - ctx.faultEndedAt)),
    });
    const r = ctx.result;
    r.pass =
      r.lost === 0 &&
      r.duplicated === 0 &&
      r.poison.missing === 0 &&
      r.unexpectedDeadLetters === 0 &&
      r.markersMissing === 0 &&
      r.refused === 0 &&
      r.sideEffects.poisonDeals === 0 &&
      unclean.length === 0 &&
      drained &&
      (r.gatewayShutdown?.graceful ?? true);
  } catch (err) {
    ctx.result.error = err.stack ?? String(err);
    ctx.result.pass = false;
    log(`${id}: ERROR ${err.message}`);
  } finally {
    ctx.finished = true;
    await Promise.all(Object.values(ctx.apps).map((a) => a.stop('SIGTERM', 10_000)));
    await pool?.end().catch(() => undefined);
    await cleanupScenario(ctx).catch((e) => log(`${id}: cleanup failed: ${e.message}`));
  }
  ctx.result.seconds = secs(Date.now() - t0);
  log(`${id}: ${ctx.result.pass ? 'PASS' : 'FAIL'} ${JSON.stringify(summaryRow(ctx.result))}`);
  return ctx.result;
}

const peerArgs = (id, kind) => [
  'peers',
  'create',
  '--id',
  id,
  '--name',
  `Faults ${kind}`,
  '--kind',
  kind,
  '--scopes',
  `${kind}.*`,
  '--rate-limit',
  '10000000',
];

/**
 * Resolves the time at which, after `since`, the pipeline had recovered: a request was accepted again (if
 * `needAck`) and every event accepted up to `since` was in the CRM.
 */
async function watchRecovery(getPool, load, since, needAck, cancelled) {
  const backlog = load.ackedBy(since).filter((e) => e.kind !== 'poison');
  const orders = backlog.filter((e) => e.kind === 'order').map((e) => e.key);
  const cdrs = backlog.filter((e) => e.kind === 'cdr').map((e) => e.key);
  for (const deadline = Date.now() + (T.drain + 120) * 1000; Date.now() < deadline; await sleep(200)) {
    if (cancelled()) return null;
    const ack = needAck ? load.firstAckAfter(since) : since;
    if (ack === null) continue;
    const present = await presentCounts(getPool(), orders, cdrs).catch(() => -1);
    if (present === backlog.length) return Math.max(ack, Date.now());
  }
  return null;
}

async function cleanupScenario(ctx) {
  if (!amqpUrl) return;
  await withChannel(async (ch) => {
    for (const q of [...workQueues(ctx.ns), ...CONNECTORS.map((c) => dlqOf(ctx.ns, c))])
      await ch.deleteQueue(q).catch(() => undefined);
    await ch.deleteExchange(`${ctx.ns}.events`).catch(() => undefined);
  });
  if (args.includes('--keep-db')) return log(`${ctx.id}: kept database sb_${ctx.ns}`);
  const admin = new pg.Client({ connectionString: pgBaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS sb_${ctx.ns} WITH (FORCE)`).finally(() => admin.end());
}

// ---------------------------------------------------------------- report
const summaryRow = (r) => ({
  scenario: r.scenario,
  accepted: r.accepted ?? '-',
  lost: r.lost ?? '-',
  duplicated: r.duplicated ?? '-',
  poisonToDlq: r.poison ? `${r.poison.inDlq}/${r.poison.expected}` : '-',
  recoveredSeconds: Number.isFinite(r.recoveredSeconds) ? r.recoveredSeconds : '-',
  verdict: r.pass ? 'PASS' : 'FAIL',
});

function markdown(report) {
  const rows = report.scenarios.map(summaryRow);
  const lines = [
    `Faults ${report.date} — ${report.mode} mode, ${report.rate} requests/s (${Math.round(CDR_SHARE * 100)} % CDRs) from ${report.workers} workers, ${report.totalSeconds} s in all`,
    '',
    '| scenario | accepted | lost | duplicated | poison→DLQ | recovered in s | verdict |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.accepted} | ${r.lost} | ${r.duplicated} | ${r.poisonToDlq} | ${r.recoveredSeconds} | ${r.verdict} |`,
    ),
    '',
  ];
  for (const r of report.scenarios) {
    const extra = [
      `${r.requests ?? 0} requests: ${JSON.stringify(r.outcomes ?? {})}`,
      `unacknowledged ${r.unacknowledged ?? 0} (of which in the CRM anyway: ${r.unacknowledgedButProcessed ?? 0})`,
      `fault ${r.faultSeconds ?? '-'} s, load ${r.loadSeconds ?? '-'} s, drained ${r.drained ? `${r.drainSeconds} s after the load` : 'NO'}`,
    ];
    if (r.gatewayShutdown)
      extra.push(
        `gateway exit ${JSON.stringify(r.gatewayShutdown.exit)} after ${r.gatewayShutdown.shutdownSeconds} s; ${r.gatewayShutdown.inFlightAtSigterm} in flight at SIGTERM ended as ${JSON.stringify(r.gatewayShutdown.inFlightEndedAs)}${r.gatewayShutdown.problems?.length ? `; NOT graceful: ${r.gatewayShutdown.problems.join('; ')}` : ''}`,
      );
    if (r.poison?.expected) extra.push(`dead letters by code ${JSON.stringify(r.poison.deadLetterCodes)}`);
    if (Object.keys(r.uncleanResponses ?? {}).length)
      extra.push(`UNCLEAN responses ${JSON.stringify(r.uncleanResponses)}`);
    if (r.unexpectedDeadLetters) extra.push(`UNEXPECTED dead letters: ${r.unexpectedDeadLetters}`);
    if (r.markersMissing) extra.push(`processed_events markers missing: ${r.markersMissing}`);
    if (r.error) extra.push(`ERROR ${r.error.split('\n')[0]}`);
    lines.push(`- ${r.scenario}: ${extra.join('; ')}`);
  }
  return lines.join('\n');
}

async function main() {
  const t0 = Date.now();
  const only = flag('only', Object.keys(SCENARIOS).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only.filter((s) => !SCENARIOS[s]);
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: a, b, c, d, e`);
  mkdirSync(LOG_DIR, { recursive: true });
  log(`servers under ${SERVER_ROOT} (PostgreSQL :${PG_PORT}, RabbitMQ :${AMQP_PORT}); logs in ${LOG_DIR}`);
  const scenarios = [];
  try {
    await startServers();
    for (const id of only) scenarios.push(await runScenario(id));
  } finally {
    await stopEverything();
  }
  const report = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    rate: RATE,
    workers: WORKERS,
    durations: T,
    servers: { root: SERVER_ROOT, pgPort: PG_PORT, amqpPort: AMQP_PORT },
    totalSeconds: Math.round((Date.now() - t0) / 1000),
    pass: scenarios.every((s) => s.pass),
    scenarios,
  };
  mkdirSync(dirname(REPORT), { recursive: true });
  writeFileSync(`${REPORT}.json`, JSON.stringify(report, null, 2));
  const md = markdown(report);
  writeFileSync(`${REPORT}.md`, md + '\n');
  console.log(md);
  return report.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(err);
    await stopEverything().catch(() => undefined);
    process.exit(2);
  },
);
