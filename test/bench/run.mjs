// npm run bench [-- --quick] [--erp-only | --no-erp] [--erp-offers N] [--duration 15] [--connections 50,100] [--generator wrk|autocannon] [--profile] [--no-floor] [--ingest-only]
//                [--auth-compare | --no-auth-compare] [--auth-duration S] [--auth-rounds N]
//                [--telephony-only | --no-telephony] [--telephony-drain S] [--calls-in-progress N]
//                [--repeat-callers SHARE] [--keep-db] [--no-pipeline] [--no-orders-analyze] [--no-telephony-analyze]
//                [--access-log-compare-only | --no-access-log-compare] [--access-log-duration S] [--access-log-rounds N]
//                [--access-log-search | --access-log-search-only | --no-access-log-search] [--access-log-rows N]
//                [--outbound-only | --no-outbound] [--outbound-changes N]   (issue 16: outbound webhooks to a local sink)
//                [--leads-only | --no-leads] [--leads N] [--leads-seconds S] [--lead-repeats SHARE] [--leads-prefetch N] [--leads-no-analyze]
//                [--history-only | --no-history] [--history-rows N] [--history-rounds N]   (issue 20: cost must not grow with history)
// Drives authenticated website-order traffic through the real gateway and website connector on real
// PostgreSQL + RabbitMQ, and reports: accepted/s, ack latency p50/p90/p97.5/p99, end-to-end processed/s, lag
// (gateway receipt -> CRM transaction) p50/p99, CPU and peak RSS per app, errors, the floor (floor.mjs) and
// the auth cost: an ingest-only gateway with issued-credential auth against the same gateway accepting a
// static key (sb-static, test-only). Writes bench-report.json/.md. `--auth-compare` runs only the auth cost.
// Telephony (after the pipeline; `--telephony-only` alone, `--no-telephony` skips it): gateway + telephony
// connector under a call-event mix (test/bench/call-mix.mjs, ~4 events per call) at TELEPHONY_CONNECTIONS:
// accepted/s, ack latency, events merged into call_events per second end to end, lag, calls completed, and the CPU
// per merged event of each component (gateway, connector, PostgreSQL, RabbitMQ, generator), with the same
// generator as the orders (wrk sends call events made beforehand; --telephony-max-rate N/s of them, 8,000).
// Access log (issue 4): `--access-log-compare` (on by default, quick included) an ingest-only gateway with
// ACCESS_LOG_ENABLED=true against the same with false, alternating rounds: the throughput ratio (≥ 0.90), rows
// written per request, records dropped. `--access-log-search` (on in a full run, off in --quick unless named) a
// bench database with --access-log-rows records (10,000,000 by default) over 30 days, and the first page of a
// search by peer and 7 days through the console API (p95 ≤ 100 ms). Every phase that stores what it sends (pipeline,
// floor, telephony) also checks the acknowledged set by unique id against the database: lost (acknowledged, not
// stored) and duplicated (stored more than once) are reported next to the throughput, and either fails the run.
// Leads (issue 14; `--leads-only` alone, `--no-leads` skips): --leads N requests (30 % from repeat people) through
// POST /v1/website/leads into the website connector, end to end (accepted/s, projected/s from the first 202 to the
// drain, lag), then the connector alone: N more posted with the connector stopped, and the full queue drained.
// Checks: every acknowledged request recorded once, and exactly one lead per person.
// History (issue 20; `--history-only` alone, `--no-history` skips): the orders pass (gateway + website connector,
// HISTORY_CONNECTIONS, DURATION s) on an empty database, then on one filled (test/bench/history.mjs) with
// --history-rows inbox markers and as many access-log records over 30 days (20M; 2M in --quick): processed/s and
// CPU per order on both, and their ratio (target: within 10 %).
// `--…-only` flags run only the named phases
// (they combine); `--no-pipeline` skips the pipeline. --keep-db keeps the filled access-log database for reuse.
import autocannon from 'autocannon';
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { APPS, appEntry } from '../../config/apps.mjs';
import { ensureStack, createDatabase } from '../../config/stack/stack.mjs';
import { createCallMix, EXTENSIONS, KNOWN_CONTACTS, POOL } from './call-mix.mjs';
import { outboundMarkdown, runOutbound } from './outbound.mjs';
import { createLeadMix } from './lead-mix.mjs';
import { erpMarkdown, runErpCatalog } from './erp-catalog.mjs';
import { createNumbers, generatorVersion, load, pickGenerator, PLACEHOLDER } from './load.mjs';
import { fillHistory, insertAccessLog } from './history.mjs';
import { freePort, sleep, spawnLogged, stopProcess, waitHealthy } from '../support/processes.mjs';

const ROOT = join(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const QUICK = args.includes('--quick');
// The orders' and the telephony phase's load generator (load.mjs): wrk when installed, else autocannon; --generator
// names one. The same for the floor and for us in a run, so the ratio compares like with like.
const GENERATOR = pickGenerator(flag('generator'));
// The full run's defaults keep the whole run inside the issue's 15-minute budget on a 2-core machine (README,
// Performance: the phases' seconds as measured; the access-log search's 10M-row fill is the largest).
const DURATION = Number(flag('duration', QUICK ? 10 : 15));
/** The issue's budget for a full `npm run bench`: a run over it says so in its log. */
const FULL_RUN_BUDGET_SECONDS = 15 * 60;
// Quick mode: one load level, so the whole run (floor, pipeline, auth cost) stays around a minute and a half.
const CONNECTIONS = flag('connections', QUICK ? '100' : '50,100')
  .split(',')
  .map(Number);
const AUTH_ONLY = args.includes('--auth-compare');
const TELEPHONY_ONLY = args.includes('--telephony-only');
const ACCESS_LOG_COMPARE_ONLY = args.includes('--access-log-compare-only');
const ACCESS_LOG_SEARCH_ONLY = args.includes('--access-log-search-only');
const OUTBOUND_ONLY = args.includes('--outbound-only');
const LEADS_ONLY = args.includes('--leads-only');
const ERP_ONLY = args.includes('--erp-only');
const HISTORY_ONLY = args.includes('--history-only');
// Any `--…-only` flag (and --auth-compare, which predates them) runs only the phases so named.
const ONLY =
  AUTH_ONLY ||
  TELEPHONY_ONLY ||
  ACCESS_LOG_COMPARE_ONLY ||
  ACCESS_LOG_SEARCH_ONLY ||
  OUTBOUND_ONLY ||
  LEADS_ONLY ||
  ERP_ONLY ||
  HISTORY_ONLY;
// Issue 16: outbound webhooks to a local sink (on by default, quick included).
const OUTBOUND = OUTBOUND_ONLY || (!ONLY && !args.includes('--no-outbound'));
const OUTBOUND_CHANGES = Number(flag('outbound-changes', QUICK ? 10_000 : 30_000));
const PIPELINE = !ONLY && !args.includes('--no-pipeline');
const AUTH_COMPARE = AUTH_ONLY || (!ONLY && !args.includes('--no-auth-compare'));
const TELEPHONY = TELEPHONY_ONLY || (!ONLY && !args.includes('--no-telephony'));
const ACCESS_LOG_COMPARE =
  ACCESS_LOG_COMPARE_ONLY ||
  args.includes('--access-log-compare') ||
  (!ONLY && !args.includes('--no-access-log-compare'));
// Filling takes minutes: in --quick only when asked for.
const ACCESS_LOG_SEARCH =
  ACCESS_LOG_SEARCH_ONLY ||
  args.includes('--access-log-search') ||
  (!ONLY && !QUICK && !args.includes('--no-access-log-search'));
const LEADS = LEADS_ONLY || (!ONLY && !args.includes('--no-leads'));
/** Issue 20: the orders pass on a database with this much history (inbox markers, and as many access-log rows). */
const HISTORY = HISTORY_ONLY || (!ONLY && !args.includes('--no-history'));
const HISTORY_CONNECTIONS = 100;
/** Passes per database, alternating which goes first. */
const HISTORY_ROUNDS = Number(flag('history-rounds', 2));
/** Issue 20: the pass on the full database within this share of the same pass on the empty one. */
const HISTORY_MAX_SLOWDOWN = 0.1;
/** Requests per leg (end to end, and again for the connector alone). */
const LEADS_COUNT = Number(flag('leads', QUICK ? 6000 : 12000));
const LEADS_REPEAT = Number(flag('lead-repeats', 0.3));
const LEADS_CONNECTIONS = 100;
/** With wrk, the end-to-end leg's length (wrk has no request count), and bodies made for up to this rate. */
const LEADS_SECONDS = Number(flag('leads-seconds', QUICK ? 5 : 10));
const LEADS_MAX_RATE = 6000;
/** Issue 14: lead intake with qualification, dedup and assignment at this rate or more, end to end. */
const LEADS_TARGET = 1500;
const LEAD_PEER = 'bench-forms';
const LEAD_CONSUMER = 'website-connector:leads';
/** Issue 15: the 1C catalog phase (test/bench/erp-catalog.mjs); --quick uploads a fifth of the catalog. */
const ERP = ERP_ONLY || (!ONLY && !args.includes('--no-erp'));
const ERP_OFFERS = Number(flag('erp-offers', QUICK ? 20_000 : 100_000));
const TELEPHONY_CONNECTIONS = 100;
/** wrk's prepared call events: enough for this many per second over --duration (running out fails the run). */
const TELEPHONY_MAX_RATE = Number(flag('telephony-max-rate', 8000));
/** ANALYZE after the orders warm-up (see there); --no-orders-analyze measures the empty tables' plans. */
const ORDERS_ANALYZE = !args.includes('--no-orders-analyze');
/** ANALYZE after the telephony warm-up (see there); --no-telephony-analyze measures the empty tables' plans. */
const TELEPHONY_ANALYZE = !args.includes('--no-telephony-analyze');
/** Issue 5: a call-event mix merged end to end at this rate or more. */
const TELEPHONY_TARGET = 2000;
// How long to wait after the load for the connector to merge the backlog; in quick mode short, so the phase
// stays within ~25 s (a backlog left then is reported, and the rate is what was merged in the time).
const TELEPHONY_DRAIN = Number(flag('telephony-drain', QUICK ? 8 : 60));
// The call mix's shape (call-mix.mjs): calls under way at once, and the share from the repeat-caller pool.
const CALL_MIX = {
  inProgress: Number(flag('calls-in-progress', 64)),
  repeatCallers: Number(flag('repeat-callers', 0.2)),
};
const AUTH_CONNECTIONS = 100;
// Several shorter rounds, alternating which mode goes first (auth, static, static, auth, ...), rather than one
// long leg each, so drift on a shared machine cancels out.
const AUTH_DURATION = Number(flag('auth-duration', QUICK ? 5 : 8));
const AUTH_ROUNDS = Number(flag('auth-rounds', QUICK ? 2 : 3));
/** The issue's budget: authentication may cost at most this share of the static-key throughput. */
const AUTH_COST_LIMIT = 0.1;
/** Issue 4: gateway throughput with access logging on at least this share of the same with it off. */
const ACCESS_LOG_MIN_RATIO = 0.9;
const ACCESS_LOG_CONNECTIONS = 100;
const ACCESS_LOG_DURATION = Number(flag('access-log-duration', QUICK ? 5 : 8));
const ACCESS_LOG_ROUNDS = Number(flag('access-log-rounds', QUICK ? 2 : 3));
/** Issue 4: the first page of a search by peer and time range within this, at ACCESS_LOG_ROWS records. */
const ACCESS_LOG_SEARCH_LIMIT_MS = 100;
/** A row count flag: `10000000`, also 10M, 500k, 1e7. */
const rowsFlag = (name, dflt) => {
  const raw = String(flag(name, dflt)).trim();
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(raw);
  const n = m ? Number(m[1]) * { '': 1, k: 1e3, m: 1e6 }[m[2].toLowerCase()] : Number(raw);
  if (!Number.isInteger(n) || n < 1000) throw new Error(`--${name}: a whole number ≥ 1000, not ${raw}`);
  return n;
};
/** `--access-log-rows 10000000` (also 10M, 1e7). */
const ACCESS_LOG_ROWS = rowsFlag('access-log-rows', '10000000');
const HISTORY_ROWS = rowsFlag('history-rows', QUICK ? '2M' : '20M');
const BENCH_PEER = 'bench-shop';
const TELEPHONY_PEER = 'bench-pbx';
const STATIC_PEER = 'bench-static';
const log = (m) => process.stderr.write(`[bench] ${m}\n`);

/** CPU seconds and RSS of a process from /proc (Linux). */
function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(stat[11]) + Number(stat[12]);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
    return { cpuSeconds: ticks / 100, rss };
  } catch {
    return null;
  }
}

/** A built app (dist/apps/<app>/src/main.js); `name` names its log file. */
async function startApp(app, env, name = app) {
  return spawnProcess(name, [join(ROOT, 'dist/apps', app, 'src/main.js')], env, env[appEntry(app).portEnv]);
}

/** An app's public port -> its metrics listener's port (gateway and console; a connector's are the same). */
const metricsPortOf = new Map();

async function spawnProcess(name, argv, env, port) {
  // Every process gets its own metrics listener port: two gateways at once would both want the default.
  const metricsPort = await freePort();
  // Keyed by number: callers pass the numeric port, the env (and so `port` here) holds it as a string.
  metricsPortOf.set(Number(port), metricsPort);
  const metricsEnv = APPS.filter((a) => a.metricsPortEnv).map((a) => [a.metricsPortEnv, String(metricsPort)]);
  env = { ...env, ...Object.fromEntries(metricsEnv) };
  const logDir = join(ROOT, '.data', 'bench-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  // --profile: V8 CPU profiles of each process in .data/bench-profiles (open in Chrome DevTools).
  const profile = args.includes('--profile')
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${join(ROOT, '.data', 'bench-profiles')}`,
        `--cpu-prof-name=${name}.cpuprofile`,
      ]
    : [];
  const proc = spawnLogged([...profile, ...argv], { env: { ...process.env, ...env }, cwd: ROOT, logFile });
  return waitHealthy(proc, `http://127.0.0.1:${port}`, { name, logFile });
}

/** A Prometheus histogram's cumulative bucket counts ({le: count}) from an app's /metrics, summed over labels. */
async function histogram(port, name) {
  const text = await fetch(`http://127.0.0.1:${metricsPortOf.get(port) ?? port}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const buckets = {};
  for (const m of text.matchAll(
    new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+(?:\\.\\d+)?)`, 'gm'),
  ))
    buckets[m[1]] = (buckets[m[1]] ?? 0) + Number(m[2]);
  return buckets;
}

/**
 * Quantiles (ms, upper bucket bound) of what a histogram observed between two scrapes: where the time goes
 * inside a process (broker confirm wait at the gateway, handler time at a connector).
 */
function histogramDelta(before, after, qs = [0.5, 0.99]) {
  const les = Object.keys(after)
    .filter((le) => le !== '+Inf')
    .sort((a, b) => Number(a) - Number(b));
  const total = (after['+Inf'] ?? 0) - (before['+Inf'] ?? 0);
  if (!total) return null;
  const out = { count: total };
  for (const q of qs) {
    const le = les.find((l) => (after[l] ?? 0) - (before[l] ?? 0) >= q * total);
    out[`p${q * 100}`] = le === undefined ? `>${Number(les.at(-1)) * 1000}` : Number(le) * 1000;
  }
  return out;
}

const stop = (proc) => stopProcess(proc);

/**
 * A bench peer, issued like any real one (`cli peers create`): returns its bearer token. The rate limit is
 * the highest the contract allows, far above what one machine can send, so the quota never binds.
 */
function createBenchPeer(env, { id = BENCH_PEER, kind = 'website', scopes = 'website.*', provider } = {}) {
  const argv = [
    join(ROOT, 'dist/apps/console/src/cli.js'),
    'peers',
    'create',
    '--id',
    id,
    '--name',
    'Bench',
    '--kind',
    kind,
    '--scopes',
    scopes,
    '--rate-limit',
    '10000000',
    '--json',
    ...(provider ? ['--provider', provider] : []),
  ];
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      argv,
      { env: { ...process.env, ...env }, cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`cli peers create failed: ${stderr || err.message}`));
        try {
          resolve(JSON.parse(stdout).credential.token);
        } catch (e) {
          reject(new Error(`cli peers create: unexpected output (${e.message})`));
        }
      },
    ),
  );
}

/**
 * Lost and duplicated among acknowledged events, by their unique key: `storedKeys` is a SELECT of one key column
 * (`k`) over what the phase stored, restricted to the keys passed as $1. A fast run that loses data cannot look
 * good: lost > 0 or duplicated > 0 is reported next to its throughput (and in the markdown).
 */
async function accounting(db, acked, storedKeys) {
  const unique = [...new Set(acked)];
  const { rows } = await db.query(
    `SELECT count(DISTINCT s.k)::int AS present, (count(*) - count(DISTINCT s.k))::int AS extra
       FROM (${storedKeys}) s`,
    [unique],
  );
  return {
    acknowledged: unique.length,
    stored: rows[0].present,
    lost: unique.length - rows[0].present,
    duplicated: rows[0].extra,
  };
}
const ORDER_KEYS = `SELECT external_id AS k FROM deals WHERE external_id = ANY($1::text[])`;

/**
 * Bench orders (load.mjs): POST `url` with `headers`, each a new order (ORDER_BODY, its own number) for `duration` s
 * or `amount` requests. The externalId of every accepted order is pushed onto `acked` when given.
 */
async function loadOrders(url, headers, opts, acked = null) {
  const result = await load({
    generator: GENERATOR,
    url,
    headers: { 'content-type': 'application/json', ...headers },
    body: ORDER_BODY,
    key: ORDER_KEY,
    numbers: orderNumbers,
    ...opts,
  });
  if (acked) for (const key of result.acked) acked.push(key);
  return result;
}

/** Orders on POST /v1/website/orders with a bearer token (see loadOrders). */
const drive = (port, token, opts, acked = null) =>
  loadOrders(`http://127.0.0.1:${port}/v1/website/orders`, { authorization: `Bearer ${token}` }, opts, acked);

/** What a measured load cost the generator itself: CPU µs per request answered. */
/** The CPU of a generator that ran as a process of its own (wrk); autocannon's is this process's. */
const ownGeneratorSeconds = (r) => (r.generator === 'wrk' ? (r.generatorCpuSeconds ?? 0) : 0);

const generatorCost = (r) => ({
  generator: r.generator,
  cpuSeconds: r.generatorCpuSeconds,
  cpuMicrosPerRequest:
    r.generatorCpuSeconds !== null && r.requests.total
      ? Math.round((r.generatorCpuSeconds * 1e6) / r.requests.total)
      : null,
});

/**
 * The floor, measured right before our pipeline at the same load: what this machine can do with no auth,
 * validation, mapping or framework (test/bench/floor.mjs).
 */
async function runFloor({ connections, databaseUrl, amqpUrl, ns, db }) {
  const [gwPort, cPort] = [await freePort(), await freePort()];
  const env = { AMQP_URL: amqpUrl, DATABASE_URL: databaseUrl, FLOOR_QUEUE: `${ns}.floor` };
  const script = join(ROOT, 'test/bench/floor.mjs');
  const consumer = await spawnProcess(
    'floor-consumer',
    [script, 'consumer'],
    { ...env, FLOOR_PORT: String(cPort) },
    cPort,
  );
  const gateway = await spawnProcess(
    'floor-gateway',
    [script, 'gateway'],
    { ...env, FLOOR_PORT: String(gwPort) },
    gwPort,
  );
  const rows = async () => Number((await db.query('SELECT count(*) n FROM floor_events')).rows[0].n);
  try {
    const before = await rows();
    const meter = await cpuMeter(db, { gateway: gateway.pid, consumer: consumer.pid });
    const startedAt = Date.now();
    const acked = [];
    const result = await loadOrders(
      `http://127.0.0.1:${gwPort}/floor`,
      {},
      { connections, duration: DURATION },
      acked,
    );
    const loadEndedAt = Date.now();
    let done = await rows();
    while (done - before < result['2xx'] && Date.now() - loadEndedAt < 300_000) {
      await sleep(100);
      done = await rows();
    }
    const elapsed = (Date.now() - startedAt) / 1000;
    const cpu = await meter.perItem(done - before, ownGeneratorSeconds(result));
    return {
      acceptedPerSecond: Math.round(result['2xx'] / ((loadEndedAt - startedAt) / 1000)),
      ackLatencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      processedPerSecondEndToEnd: Math.round((done - before) / elapsed),
      errors: result.non2xx + result.errors + result.timeouts,
      cpu,
      loadGenerator: generatorCost(result),
      accounting: await accounting(
        db,
        acked,
        `SELECT body->>'externalId' AS k FROM floor_events WHERE body->>'externalId' = ANY($1::text[])`,
      ),
    };
  } finally {
    await Promise.all([stop(gateway), stop(consumer)]);
  }
}

const runId = randomBytes(3).toString('hex');
// The same sample order the e2e suites use; only identity fields vary: {{n}} is a number new in the run (load.mjs).
const SAMPLE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/website/order.sample.json'), 'utf8'));
const ORDER_KEY = `B-${runId}-${PLACEHOLDER}`;
const ORDER_BODY = JSON.stringify({
  ...SAMPLE,
  externalId: ORDER_KEY,
  customer: { name: 'Bench Customer', phone: `+7916${PLACEHOLDER}`, email: `c${PLACEHOLDER}@bench.example` },
});
const orderNumbers = createNumbers(7);

const configFile = (name) => JSON.parse(readFileSync(join(ROOT, 'config', name), 'utf8'));
// The auth-compare gateways run with NODE_ENV=test (config/test.json: other retry delays), so both sets.
const RETRY_DELAYS = [
  ...new Set(
    [configFile('default.json'), configFile('test.json')].flatMap((c) => c.amqp?.retryDelaysMs ?? []),
  ),
];
/**
 * Every app declares every connector's queues (libs/messaging topology), so each namespace a run used holds
 * all of them, whichever apps ran: the connector list is the registry's (built), the two known ones if absent.
 */
function connectorNames() {
  try {
    return Object.keys(
      createRequire(import.meta.url)(join(ROOT, 'dist/libs/contracts/src/registry.js')).CONNECTORS,
    );
  } catch {
    return ['website-connector', 'telephony-connector'];
  }
}
const connectorQueues = (ns) =>
  connectorNames().flatMap((c) => [
    `${ns}.${c}`,
    `${ns}.${c}.dlq`,
    ...RETRY_DELAYS.map((d) => `${ns}.${c}.retry.${d}ms`),
  ]);

async function withChannel(amqpUrl, fn) {
  const conn = await amqp.connect(amqpUrl);
  try {
    return await fn(await conn.createChannel());
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Removes the run's queues, exchanges and database so repeated runs do not burden the broker. */
async function cleanup(stack, namespaces, ns) {
  await sleep(500); // let the apps close their connections
  await withChannel(stack.amqpUrl, async (ch) => {
    for (const n of namespaces) {
      for (const q of connectorQueues(n)) await ch.deleteQueue(q).catch(() => undefined);
      await ch.deleteExchange(`${n}.events`).catch(() => undefined);
    }
    await ch.deleteQueue(`${ns}.floor`).catch(() => undefined);
  });
  // --keep-db: leave the CRM database for inspection (EXPLAIN ANALYZE on the real rows); drop it yourself.
  if (args.includes('--keep-db')) return log(`kept database sb_${ns}`);
  const admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS sb_${ns} WITH (FORCE)`);
  await admin.end();
}

// Without a connector nothing is processed to count.
const INGEST_ONLY = args.includes('--ingest-only');
const DAY_MS = 86_400_000;
// Markers received since `sinceDay` (a UTC date): only the days of the run are counted, not the history a
// database may hold (the inbox is partitioned by received_on).
const count = async (db, sinceDay) =>
  INGEST_ONLY
    ? 0
    : Number(
        (await db.query('SELECT count(*) n FROM processed_events WHERE received_on >= $1::date', [sinceDay]))
          .rows[0].n,
      );

/** Gateway + website connector under load at each connection count, each preceded by its floor (unless not). */
async function runPipeline({
  stack,
  ns,
  databaseUrl,
  appEnv,
  token,
  levels = CONNECTIONS,
  withFloor = !args.includes('--no-floor'),
}) {
  const sinceDay = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
  const [gwPort, wcPort] = [await freePort(), await freePort()];
  const env = {
    ...appEnv,
    AMQP_NAMESPACE: ns,
    GATEWAY_PORT: String(gwPort),
    WEBSITE_CONNECTOR_PORT: String(wcPort),
  };
  const gateway = await startApp('gateway', { ...env, WEBSITE_CONNECTOR_PORT: undefined });
  // --ingest-only: no connector, to separate the gateway's cost from the CRM writes'.
  const connector = INGEST_ONLY
    ? null
    : await startApp('website-connector', { ...env, GATEWAY_PORT: undefined }).catch(async (err) => {
        await stop(gateway);
        throw err;
      });
  const procs = connector ? { gateway, 'website-connector': connector } : { gateway };
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();

  const runs = [];
  try {
    // Warm-up: JIT, connection pools, queue leader.
    const beforeWarm = await count(db, sinceDay);
    const warm = await drive(gwPort, token, { connections: 10, amount: 500 });
    if (warm['2xx'] < 500) throw new Error(`warm-up: only ${warm['2xx']} of 500 accepted (auth?)`);
    while (!INGEST_ONLY && (await count(db, sinceDay)) - beforeWarm < 500) await sleep(100);
    // As in the telephony and leads phases: the tables the warm-up filled, analyzed as autovacuum does on any live
    // system. Without it the connector's named statements keep generic plans made for never-analyzed tables — the
    // contact match hash-joined a sequential scan of every contact identity per batch (pg_stat_user_tables: ~100
    // scans reading 580,000 rows in a 15 s pass). --no-orders-analyze measures that case.
    if (!INGEST_ONLY && ORDERS_ANALYZE) await db.query('ANALYZE');

    for (const connections of levels) {
      if (withFloor) log(`floor: ${connections} connections for ${DURATION} s`);
      const floor = !withFloor
        ? null
        : await runFloor({ connections, databaseUrl, amqpUrl: stack.amqpUrl, ns, db });
      if (floor) log(`floor: ${JSON.stringify(floor)}`);
      log(`${connections} connections for ${DURATION} s`);
      const before = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
      const peak = Object.fromEntries(Object.keys(procs).map((n) => [n, 0]));
      const sampler = setInterval(() => {
        for (const [n, p] of Object.entries(procs)) peak[n] = Math.max(peak[n], procStats(p.pid)?.rss ?? 0);
      }, 250);
      const processedAtStart = await count(db, sinceDay);
      const meter = await cpuMeter(db, Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, p.pid])));
      // PostgreSQL's share: the backends serving this database (the apps' pools, warmed up by now).
      const pgPids = await backendPids(db);
      const pgCpuBefore = cpuOf(pgPids);
      const confirmBefore = await histogram(gwPort, 'switchboard_publish_confirm_seconds');
      const handlerBefore = connector ? await histogram(wcPort, 'switchboard_consume_seconds') : {};
      const startedAt = Date.now();
      const acked = [];
      const result = await drive(gwPort, token, { connections, duration: DURATION }, acked);
      const loadEndedAt = Date.now();
      const processedAtLoadEnd = await count(db, sinceDay);
      const accepted = result['2xx'];
      // Drain: until everything accepted in this run is in the CRM.
      let processed = processedAtLoadEnd;
      while (!INGEST_ONLY && processed - processedAtStart < accepted && Date.now() - loadEndedAt < 300_000) {
        await sleep(100);
        processed = await count(db, sinceDay);
      }
      const drainedAt = Date.now();
      const pgCpuSeconds = cpuOf(pgPids) - pgCpuBefore;
      clearInterval(sampler);
      const after = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
      // --ingest-only processes nothing: per accepted request then.
      const cpu = await meter.perItem(
        INGEST_ONLY ? accepted : processed - processedAtStart,
        ownGeneratorSeconds(result),
      );
      // Inside the ack and the lag: the wait for the broker's confirm, and the connector's time per message
      // (its batch's transaction included).
      const inside = {
        publishConfirmMs: histogramDelta(
          confirmBefore,
          await histogram(gwPort, 'switchboard_publish_confirm_seconds'),
        ),
        connectorHandlerMs: connector
          ? histogramDelta(handlerBefore, await histogram(wcPort, 'switchboard_consume_seconds'))
          : null,
      };
      // Lag: gateway receipt (the event id is a UUIDv7: its first 48 bits are the receive time in ms) to the
      // connector's CRM transaction.
      const lag = INGEST_ONLY
        ? { p50: null, p99: null }
        : (
            await db.query(
              `WITH l AS (
             SELECT extract(epoch FROM processed_at) * 1000
                    - ('x' || replace(left(event_id::text, 13), '-', ''))::bit(48)::bigint AS ms
               FROM processed_events WHERE processed_at >= to_timestamp($1 / 1000.0))
           SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) p50,
                  percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) p99 FROM l`,
              [startedAt],
            )
          ).rows[0];
      const elapsed = (drainedAt - startedAt) / 1000;
      runs.push({
        connections,
        durationSeconds: DURATION,
        accepted,
        acceptedPerSecond: Math.round(accepted / ((loadEndedAt - startedAt) / 1000)),
        ackLatencyMs: {
          p50: result.latency.p50,
          p90: result.latency.p90,
          p97_5: result.latency.p97_5,
          p99: result.latency.p99,
          max: result.latency.max,
        },
        processedPerSecondDuringLoad: Math.round(
          (processedAtLoadEnd - processedAtStart) / ((loadEndedAt - startedAt) / 1000),
        ),
        processedPerSecondEndToEnd: Math.round((processed - processedAtStart) / elapsed),
        drainSeconds: (drainedAt - loadEndedAt) / 1000,
        lagMs: { p50: Math.round(Number(lag.p50)), p99: Math.round(Number(lag.p99)) },
        errors: { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
        loadGenerator: generatorCost(result),
        // --ingest-only has no connector: nothing is stored, so only the acknowledged count means anything.
        accounting: INGEST_ONLY
          ? { acknowledged: new Set(acked).size }
          : await accounting(db, acked, ORDER_KEYS),
        inside,
        cpu,
        floor,
        processes: Object.fromEntries(
          Object.keys(procs).map((n) => [
            n,
            {
              cpuPercent: Math.round(((after[n].cpuSeconds - before[n].cpuSeconds) / elapsed) * 100),
              cpuSeconds: Math.round((after[n].cpuSeconds - before[n].cpuSeconds) * 100) / 100,
              peakRssMB: Math.round(peak[n] / 1048576),
            },
          ]),
        ),
        postgres: { backends: pgPids.length, cpuSeconds: Math.round(pgCpuSeconds * 100) / 100 },
        processed: processed - processedAtStart,
      });
      log(JSON.stringify(runs.at(-1)));
    }
  } finally {
    await Promise.all(Object.values(procs).map(stop));
    await db.end();
  }
  return runs;
}

/**
 * Issue 20, cost must not grow with history: the same orders pass (gateway + website connector,
 * HISTORY_CONNECTIONS connections, DURATION s, no floor) on a database as a fresh install has it (migrated, the
 * console's first maintenance pass made), on one with a 30-day window's partitions but no rows, and on one
 * holding HISTORY_ROWS inbox markers and as many access-log records over those 30 days (history.mjs). Each database has its own bench peer and is dropped afterwards (unless
 * --keep-db). Compared: processed/s end to end, and CPU per order of gateway, connector and PostgreSQL backends
 * (the steadier figure on a shared machine).
 */
async function runHistory({ stack, ns, appEnv, secrets }) {
  const hns = `${ns}h`;
  const { InboxPartitions } = createRequire(import.meta.url)(
    join(ROOT, 'dist/libs/database/src/inbox-partitions.js'),
  );
  const { AccessLogPartitions } = createRequire(import.meta.url)(
    join(ROOT, 'dist/libs/access-log/src/access-log.partitions.js'),
  );
  const dbs = {};
  const prepare = async (name, fill) => {
    const dbName = `sb_${hns}_${name}`;
    const url = await createDatabase(stack.databaseUrl, dbName);
    const token = await createBenchPeer({ ...secrets, DATABASE_URL: url }); // also migrates
    dbs[name] = { dbName, url, token, history: await fill(url), passes: [] };
  };
  const pass = async (name) => {
    const d = dbs[name];
    log(`history: orders pass on the ${name} database`);
    const [run] = await runPipeline({
      stack,
      ns: hns,
      databaseUrl: d.url,
      appEnv: { ...appEnv, DATABASE_URL: d.url },
      token: d.token,
      levels: [HISTORY_CONNECTIONS],
      withFloor: false,
    });
    d.passes.push(run);
  };
  const summary = (name) => {
    const { history, passes } = dbs[name];
    const sum = (f) => passes.reduce((a, r) => a + f(r), 0);
    const processed = sum((r) => r.processed);
    const cpu =
      sum((r) => r.processes.gateway.cpuSeconds) +
      sum((r) => r.processes['website-connector']?.cpuSeconds ?? 0) +
      sum((r) => r.postgres.cpuSeconds);
    const perOrder = (seconds) => Math.round((seconds / Math.max(1, processed)) * 1e6) / 1000;
    return {
      history,
      passes: passes.length,
      processedPerSecond: Math.round(sum((r) => r.processedPerSecondEndToEnd) / passes.length),
      cpuMsPerOrder: perOrder(cpu),
      postgresCpuMsPerOrder: perOrder(sum((r) => r.postgres.cpuSeconds)),
      lagMs: {
        p50: Math.max(...passes.map((r) => r.lagMs.p50)),
        p99: Math.max(...passes.map((r) => r.lagMs.p99)),
      },
      accounting: {
        acknowledged: sum((r) => r.accounting.acknowledged),
        stored: sum((r) => r.accounting.stored),
        lost: sum((r) => r.accounting.lost),
        duplicated: sum((r) => r.accounting.duplicated),
      },
      runs: passes,
    };
  };
  try {
    await prepare('empty', async (url) => {
      // What the console does at its start: partitions yesterday .. 7 days ahead for both tables.
      const config = { database: { url, idempotencyWindowDays: 30 }, accessLog: { retentionDays: 180 } };
      for (const p of [new InboxPartitions(config), new AccessLogPartitions(config)]) {
        try {
          await p.maintain(new Date(), 7);
        } finally {
          await p.close();
        }
      }
      return { rows: 0 };
    });
    // The partitions of a full window, empty: tells the cost of the window's partitions from that of the rows.
    await prepare('window', async (url) => {
      const config = { database: { url, idempotencyWindowDays: 30 }, accessLog: { retentionDays: 180 } };
      const from = new Date(Date.now() - 30 * DAY_MS);
      const to = new Date(Date.now() + 8 * DAY_MS);
      for (const p of [new InboxPartitions(config), new AccessLogPartitions(config)]) {
        try {
          await p.ensure(from, to);
        } finally {
          await p.close();
        }
      }
      return { rows: 0 };
    });
    log(`history: filling ${num(HISTORY_ROWS)} inbox markers and ${num(HISTORY_ROWS)} access-log records`);
    await prepare('full', (url) => fillHistory(url, { rows: HISTORY_ROWS, peerId: BENCH_PEER, log }));
    // Alternating (empty, window, full, full, window, empty, ...) so drift on a shared machine falls on all alike.
    for (let round = 0; round < HISTORY_ROUNDS; round++) {
      const order = ['empty', 'window', 'full'];
      for (const name of round % 2 ? order.reverse() : order) await pass(name);
    }
  } finally {
    for (const d of Object.values(dbs)) {
      if (args.includes('--keep-db')) log(`kept database ${d.dbName}`);
      else await dropDatabase(stack, d.dbName);
    }
  }
  const empty = summary('empty');
  const window = summary('window');
  const full = summary('full');
  const throughputRatio = full.processedPerSecond / empty.processedPerSecond;
  const cpuRatio = full.cpuMsPerOrder / empty.cpuMsPerOrder;
  return {
    rows: HISTORY_ROWS,
    connections: HISTORY_CONNECTIONS,
    durationSeconds: DURATION,
    rounds: HISTORY_ROUNDS,
    empty,
    window,
    full,
    vsWindow: {
      throughputRatio: Math.round((full.processedPerSecond / window.processedPerSecond) * 1000) / 1000,
      cpuPerOrderRatio: Math.round((full.cpuMsPerOrder / window.cpuMsPerOrder) * 1000) / 1000,
    },
    throughputRatio: Math.round(throughputRatio * 1000) / 1000,
    cpuPerOrderRatio: Math.round(cpuRatio * 1000) / 1000,
    limit: HISTORY_MAX_SLOWDOWN,
    pass: cpuRatio <= 1 + HISTORY_MAX_SLOWDOWN && throughputRatio >= 1 - HISTORY_MAX_SLOWDOWN,
  };
}

function historyMarkdown(h) {
  const row = (label, p) =>
    `| ${label} | ${p.processedPerSecond} | ${p.cpuMsPerOrder} | ${p.postgresCpuMsPerOrder} | ${p.lagMs.p50} / ${p.lagMs.p99} | ${accountingCell(p.accounting)} |`;
  const f = h.full.history;
  return [
    '',
    `History (issue 20): the orders pass (${h.connections} connections, ${h.durationSeconds} s, ${h.rounds} per database, alternating) on an empty database and on one with ${num(h.rows)} inbox markers and ${num(h.rows)} access-log records over ${f.days} days (filled in ${Math.round(f.inboxSeconds + f.accessLogSeconds)} s; inbox ${num(f.inboxMB)} MB, ${f.inboxBytesPerMarker} bytes per marker with its indexes; access log ${num(f.accessLogMB)} MB):`,
    '',
    '| database | processed/s (end to end) | CPU ms per order (gateway + connector + PostgreSQL) | of which PostgreSQL | lag p50 / p99 ms | acknowledged / lost / duplicated |',
    '|---|---|---|---|---|---|',
    row('empty (a fresh install: partitions yesterday .. 7 days ahead)', h.empty),
    row(`empty, with the partitions of a ${f.days}-day window`, h.window),
    row('with history', h.full),
    '',
    `With history / empty: processed/s **${h.throughputRatio.toFixed(3)}**, CPU per order **${h.cpuPerOrderRatio.toFixed(3)}** (target: within ${pct(h.limit)}: ${h.pass ? 'PASS' : 'FAIL'}). With history / the same partitions empty (the rows alone): processed/s ${h.vsWindow.throughputRatio.toFixed(3)}, CPU per order ${h.vsWindow.cpuPerOrderRatio.toFixed(3)}.`,
  ];
}

/** Busy and total CPU ticks of the whole machine (/proc/stat). */
function machineTicks() {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - (v[4] ?? 0), total };
}

/** CPU seconds used so far by a set of processes (ones gone meanwhile count as 0). */
const cpuOf = (pids) => pids.reduce((a, pid) => a + (procStats(pid)?.cpuSeconds ?? 0), 0);
/** The PostgreSQL backends serving one database (the apps' pools, autovacuum, ours), by pid. */
const backendPids = async (db) =>
  (await db.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map(
    (r) => r.pid,
  );

/** Every process whose command name is `comm` (from /proc). */
function pidsByComm(comm) {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
/** The broker's Erlang VM(s): shared with anything else using the broker, so only indicative. */
const brokerPids = () => pidsByComm('beam.smp');
/** Every PostgreSQL server process (all databases, WAL writer, checkpointer …): shared, so only indicative. */
const postgresPids = () => pidsByComm('postgres');

/**
 * Where the CPU of one phase went, per item processed: each named process (our apps or the floor's), every
 * PostgreSQL process serving the bench database (its backends, the WAL writer, checkpointer: the database's
 * whole cost of the writes),
 * the broker's Erlang VM and this process (the load generator), in microseconds of CPU per item. Processes
 * started or gone meanwhile count from 0. The machine's busy share over the same interval says how much of
 * the two cores the phase had: a split summing to ~2 cores × elapsed means the machine, not one process, was
 * the limit.
 */
async function cpuMeter(db, named) {
  // This database's backends and the server's background processes (WAL writer, checkpointer, autovacuum
  // launcher...), not other databases' backends (e2e suites may share the server).
  const postgresPids = async () =>
    (
      await db.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL')
    ).rows.map((r) => r.pid);
  const snap = async () => ({
    apps: Object.fromEntries(Object.entries(named).map(([n, pid]) => [n, procStats(pid)?.cpuSeconds ?? 0])),
    postgres: new Map((await postgresPids()).map((pid) => [pid, procStats(pid)?.cpuSeconds ?? 0])),
    broker: new Map(brokerPids().map((pid) => [pid, procStats(pid)?.cpuSeconds ?? 0])),
    bench: process.cpuUsage(),
    machine: machineTicks(),
    at: Date.now(),
  });
  const since = (before, pids) =>
    pids.reduce((a, pid) => a + (procStats(pid)?.cpuSeconds ?? 0) - (before.get(pid) ?? 0), 0);
  const start = await snap();
  return {
    /**
     * CPU µs per item for `items` items processed since the meter started. `generatorSeconds`: the CPU of a load
     * generator in a process of its own (wrk), added to this process's.
     */
    async perItem(items, generatorSeconds = 0) {
      const seconds = {
        ...Object.fromEntries(
          Object.entries(named).map(([n, pid]) => [n, (procStats(pid)?.cpuSeconds ?? 0) - start.apps[n]]),
        ),
        postgres: since(start.postgres, await postgresPids()),
        rabbitmq: since(start.broker, brokerPids()),
        loadGenerator: (() => {
          const u = process.cpuUsage(start.bench);
          return (u.user + u.system) / 1e6 + generatorSeconds;
        })(),
      };
      const machine = machineTicks();
      const elapsed = (Date.now() - start.at) / 1000;
      const micros = Object.fromEntries(
        Object.entries(seconds).map(([n, s]) => [n, Math.round((s * 1e6) / Math.max(1, items))]),
      );
      micros.total = Object.values(micros).reduce((a, b) => a + b, 0);
      return {
        cpuMicrosPerItem: micros,
        machineBusyPercent: Math.round(
          ((machine.busy - start.machine.busy) / Math.max(1, machine.total - start.machine.total)) * 100,
        ),
        elapsedSeconds: elapsed,
      };
    },
  };
}

/**
 * The CRM side the calls meet: managers on extensions 101..105 (who takes calls; round robin for new leads)
 * and the first KNOWN_CONTACTS numbers of the repeat-caller pool as contacts with a phone identity.
 */
async function seedTelephonyCrm(db) {
  const { rows: managers } = await db.query(
    `INSERT INTO managers (name, extension)
     SELECT 'Bench manager ' || x, x FROM unnest($1::text[]) x
     ON CONFLICT (extension) WHERE extension IS NOT NULL DO UPDATE SET active = true RETURNING id`,
    [EXTENSIONS],
  );
  for (const [i, phone] of POOL.slice(0, KNOWN_CONTACTS).entries()) {
    await db.query(
      `WITH c AS (
         INSERT INTO contacts (name, phones, responsible_manager_id, source)
         SELECT $1, ARRAY[$2], $3, 'bench'
          WHERE NOT EXISTS (SELECT 1 FROM contact_identities WHERE kind = 'phone' AND value = $2)
         RETURNING id)
       INSERT INTO contact_identities (kind, value, contact_id) SELECT 'phone', $2, id FROM c`,
      [`Bench contact ${i + 1}`, phone, managers[i % managers.length].id],
    );
  }
}

/**
 * Telephony (issue 5: a call-event mix of ~4 events per call merged end to end at ≥ TELEPHONY_TARGET/s): the
 * gateway and the telephony connector (namespace <ns>t) with a telephony peer, a warm-up, then
 * TELEPHONY_CONNECTIONS for DURATION s of call events (call-mix.mjs). Merged = call_events rows (one per
 * accepted event), counted from the first 202 until the connector has drained (or TELEPHONY_DRAIN s passed).
 */
async function runTelephony({ ns, databaseUrl, appEnv, secrets }) {
  const phaseStartedAt = Date.now();
  const token = await createBenchPeer(
    { ...secrets, DATABASE_URL: databaseUrl },
    { id: TELEPHONY_PEER, kind: 'telephony', scopes: 'telephony.*' },
  );
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const procs = {};
  try {
    await seedTelephonyCrm(db);
    const [gwPort, tcPort] = [await freePort(), await freePort()];
    const env = {
      ...appEnv,
      AMQP_NAMESPACE: `${ns}t`,
      GATEWAY_PORT: String(gwPort),
      TELEPHONY_CONNECTOR_PORT: String(tcPort),
      WEBSITE_CONNECTOR_PORT: undefined,
    };
    // Both at once: start-up is a fair part of this phase's time.
    const started = await Promise.allSettled([
      startApp('gateway', { ...env, TELEPHONY_CONNECTOR_PORT: undefined }, 'gateway-telephony'),
      INGEST_ONLY ? null : startApp('telephony-connector', { ...env, GATEWAY_PORT: undefined }),
    ]);
    started.forEach((r, i) => {
      if (r.status === 'fulfilled' && r.value) procs[i === 0 ? 'gateway' : 'telephony-connector'] = r.value;
    });
    for (const r of started) if (r.status === 'rejected') throw r.reason;

    const mix = createCallMix({ prefix: `W${runId}`, ...CALL_MIX });
    // An event's key (its X-Request-Id, echoed): its call and type (each call sends each type once).
    const nextEvent = () => {
      const body = mix.next();
      const e = JSON.parse(body);
      return { key: `${e.providerCallId}:${e.type}`, body };
    };
    // The same generator as the orders phase (wrk when installed): its CPU is the apps' to use. wrk sends bodies
    // made beforehand, enough for TELEPHONY_MAX_RATE/s.
    const driveCalls = (opts) =>
      load({
        generator: GENERATOR,
        url: `http://127.0.0.1:${gwPort}/v1/telephony/events`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        items: nextEvent,
        itemsMax: TELEPHONY_MAX_RATE * (opts.duration ?? 0),
        ...opts,
      });
    const merged = async (afterId) =>
      INGEST_ONLY
        ? 0
        : Number((await db.query('SELECT count(*) n FROM call_events WHERE id > $1', [afterId])).rows[0].n);

    // Warm-up: JIT, pools, queue leader; its unfinished calls are abandoned (never counted).
    const warm = await driveCalls({ connections: 10, amount: 500 });
    if (warm['2xx'] < 500) throw new Error(`telephony warm-up: only ${warm['2xx']} of 500 accepted`);
    for (const deadline = Date.now() + 60_000; !INGEST_ONLY && (await merged(0)) < 500; await sleep(100)) {
      if (Date.now() > deadline) throw new Error('telephony warm-up: the connector did not merge 500 events');
    }
    mix.reset(`C${runId}`);
    // A fresh database's tables have no statistics yet, and the connector's prepared statements keep the plans
    // made for empty tables (nested loops over whole tables) until autovacuum analyzes them, a minute or more
    // later: longer than the load. A running system's tables are analyzed; so is this one, after the warm-up.
    if (TELEPHONY_ANALYZE) await db.query('ANALYZE');
    const baseId = Number((await db.query('SELECT coalesce(max(id), 0) m FROM call_events')).rows[0].m);

    log(`telephony: ${TELEPHONY_CONNECTIONS} connections for ${DURATION} s`);
    const peak = Object.fromEntries(Object.keys(procs).map((n) => [n, 0]));
    const sampler = setInterval(() => {
      for (const [n, p] of Object.entries(procs)) peak[n] = Math.max(peak[n], procStats(p.pid)?.rss ?? 0);
    }, 250);
    // wrk's bodies are made before it starts: everything is measured from onStart, after them.
    let pgBefore, broker, before, shared0, meter, startedAt;
    const result = await driveCalls({
      connections: TELEPHONY_CONNECTIONS,
      duration: DURATION,
      onStart: async () => {
        pgBefore = new Map((await backendPids(db)).map((pid) => [pid, procStats(pid)?.cpuSeconds ?? 0]));
        broker = brokerPids();
        before = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
        shared0 = { broker: cpuOf(broker), bench: process.cpuUsage(), machine: machineTicks() };
        meter = await cpuMeter(db, Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, p.pid])));
        startedAt = Date.now();
      },
    });
    const ackedEvents = result.acked;
    const loadEndedAt = Date.now();
    const sent = { ...mix.stats };
    const accepted = result['2xx'];
    const mergedAtLoadEnd = await merged(baseId);
    let done = mergedAtLoadEnd;
    while (!INGEST_ONLY && done < accepted && Date.now() - loadEndedAt < TELEPHONY_DRAIN * 1000) {
      await sleep(50);
      done = await merged(baseId);
    }
    const drainedAt = Date.now();
    clearInterval(sampler);
    const after = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
    const elapsed = (drainedAt - startedAt) / 1000;
    const machine = machineTicks();
    // Backends opened during the load count in full.
    const pgCpu = (await backendPids(db)).reduce(
      (a, pid) => a + (procStats(pid)?.cpuSeconds ?? 0) - (pgBefore.get(pid) ?? 0),
      0,
    );
    const bench = process.cpuUsage(shared0.bench);
    const cpuPct = (cpuSeconds) => Math.round((cpuSeconds / elapsed) * 100);

    // Lag: gateway receipt (UUIDv7 event id) -> the connector's transaction (call_events.received_at).
    const lag = (
      await db.query(
        `WITH l AS (
           SELECT extract(epoch FROM received_at) * 1000
                  - ('x' || replace(left(event_id::text, 13), '-', ''))::bit(48)::bigint AS ms
             FROM call_events WHERE id > $1)
         SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) p99 FROM l`,
        [baseId],
      )
    ).rows[0];
    const [calls] = (
      await db.query(
        `SELECT count(*)::int AS logs,
                count(*) FILTER (WHERE status = 'completed')::int AS completed,
                (SELECT count(DISTINCT call_log_id)::int FROM call_events
                  WHERE id > $2 AND type = 'telephony.call.ended') AS "endedMerged",
                count(*) FILTER (WHERE contact_id IS NOT NULL)::int AS "linkedToContact",
                count(*) FILTER (WHERE lead_created)::int AS "newLead",
                count(*) FILTER (WHERE lead_id IS NOT NULL AND NOT lead_created)::int AS "linkedToOpenLead",
                count(*) FILTER (WHERE manager_id IS NOT NULL)::int AS "withManager",
                count(callback_task_id)::int AS "withCallbackTask"
           FROM call_logs WHERE call_key LIKE $1`,
        [`C${runId}-%`, baseId],
      )
    ).rows;
    const [tasks] = (
      await db.query(
        `SELECT count(*) FILTER (WHERE status = 'open')::int AS open,
                count(*) FILTER (WHERE status <> 'open')::int AS closed
           FROM tasks WHERE kind = 'call_back'`,
      )
    ).rows;

    // From the load's start (wrk does not say when its first 202 came; a few ms after).
    const endToEndSeconds = (drainedAt - startedAt) / 1000;
    // Per merged event (per accepted one with --ingest-only): gateway, connector, PostgreSQL, RabbitMQ, generator.
    const cpu = await meter.perItem(INGEST_ONLY ? accepted : done, ownGeneratorSeconds(result));
    const mergedPerSecond = INGEST_ONLY ? null : Math.round(done / endToEndSeconds);
    const eventAccounting = INGEST_ONLY
      ? { acknowledged: new Set(ackedEvents).size }
      : await accounting(
          db,
          ackedEvents,
          // call_events.type is the routing key (telephony.call.started); the bench keys by the body's type.
          `SELECT k FROM (SELECT provider_call_id || ':' || substr(type, length('telephony.call.') + 1) AS k
                            FROM call_events WHERE id > ${baseId}) e
            WHERE k = ANY($1::text[])`,
        );
    const lossOrDuplicates = eventAccounting.lost > 0 || eventAccounting.duplicated > 0;
    const report = {
      connections: TELEPHONY_CONNECTIONS,
      durationSeconds: DURATION,
      mix: CALL_MIX,
      sent: { ...sent, eventsPerCall: Math.round((sent.events / Math.max(1, sent.calls)) * 100) / 100 },
      accepted,
      acceptedPerSecond: Math.round(accepted / ((loadEndedAt - startedAt) / 1000)),
      ackLatencyMs: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
      },
      merged: done,
      mergedPerSecondDuringLoad: Math.round(mergedAtLoadEnd / ((loadEndedAt - startedAt) / 1000)),
      mergedPerSecondEndToEnd: mergedPerSecond,
      // After the load: the connector (and PostgreSQL) without the gateway and the generator on the same cores.
      mergedPerSecondDraining:
        drainedAt - loadEndedAt >= 1000
          ? Math.round((done - mergedAtLoadEnd) / ((drainedAt - loadEndedAt) / 1000))
          : null,
      endToEndSeconds,
      drained: INGEST_ONLY || done >= accepted,
      backlog: Math.max(0, accepted - done),
      drainSeconds: (drainedAt - loadEndedAt) / 1000,
      lagMs: { p50: Math.round(Number(lag.p50)), p99: Math.round(Number(lag.p99)) },
      calls,
      callbackTasks: tasks,
      errors: { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
      loadGenerator: generatorCost(result),
      cpu,
      accounting: eventAccounting,
      processes: Object.fromEntries(
        Object.keys(procs).map((n) => [
          n,
          {
            cpuPercent: cpuPct(after[n].cpuSeconds - before[n].cpuSeconds),
            peakRssMB: Math.round(peak[n] / 1048576),
          },
        ]),
      ),
      // Where the rest of the machine went over the same time (100 % = one core).
      cpuPercent: {
        postgresBenchDbBackends: cpuPct(pgCpu),
        rabbitmqBroker: cpuPct(cpuOf(broker) - shared0.broker),
        benchDriver: cpuPct((bench.user + bench.system) / 1e6),
        machineBusy: Math.round(
          ((machine.busy - shared0.machine.busy) / (machine.total - shared0.machine.total)) *
            cpus().length *
            100,
        ),
        machineMax: cpus().length * 100,
      },
      target: TELEPHONY_TARGET,
      pass: mergedPerSecond !== null && mergedPerSecond >= TELEPHONY_TARGET && !lossOrDuplicates,
      phaseSeconds: Math.round((Date.now() - phaseStartedAt) / 1000),
    };
    log(`telephony: ${JSON.stringify(report)}`);
    return report;
  } finally {
    await Promise.all(Object.values(procs).map(stop));
    await db.end();
  }
}

/**
 * Leads (issue 14: ≥ LEADS_TARGET leads/s with qualification, dedup and assignment, 30 % repeat people): the
 * gateway and the website connector (namespace <ns>w) with three managers (one with a capacity, so assignment
 * reads the open loads under its lock as it must), then two legs of LEADS_COUNT requests each at
 * LEADS_CONNECTIONS. End to end: posted and projected at once; projected/s counts from the first 202 until the
 * connector has recorded every accepted request. Connector alone: the connector stopped, the requests posted
 * into its queue, then started: projected/s from its first recorded request to the last (its ceiling, without
 * the gateway and the load generator on the same cores). Each leg checks that every acknowledged request was
 * recorded exactly once (inbox marker by idempotency key) and that each person ended as exactly one lead.
 */
async function runLeads({ ns, databaseUrl, appEnv, secrets }) {
  const phaseStartedAt = Date.now();
  const token = await createBenchPeer(
    { ...secrets, DATABASE_URL: databaseUrl },
    { id: LEAD_PEER, kind: 'website', scopes: 'website.*' },
  );
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const procs = {};
  const [gwPort, wcPort] = [await freePort(), await freePort()];
  const env = {
    ...appEnv,
    AMQP_NAMESPACE: `${ns}w`,
    GATEWAY_PORT: String(gwPort),
    WEBSITE_CONNECTOR_PORT: String(wcPort),
    TELEPHONY_CONNECTOR_PORT: undefined,
    ...(flag('leads-prefetch') ? { WEBSITE_CONNECTOR_PREFETCH: flag('leads-prefetch') } : {}),
  };
  const startConnector = () => startApp('website-connector', { ...env, GATEWAY_PORT: undefined });
  const recorded = async () =>
    Number(
      (await db.query('SELECT count(*) n FROM processed_events WHERE consumer = $1', [LEAD_CONSUMER])).rows[0]
        .n,
    );
  const post = (mix, amount, acked) =>
    autocannon({
      url: `http://127.0.0.1:${gwPort}/v1/website/leads`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      connections: LEADS_CONNECTIONS,
      amount,
      requests: [
        {
          setupRequest: (req, context) => {
            const { key, person, body } = mix.next();
            context.key = key;
            context.person = person;
            return { ...req, body };
          },
          onResponse: (status, _body, context) => {
            if (acked && status >= 200 && status <= 299) acked.push([context.key, context.person]);
          },
        },
      ],
    });
  /** Until `target` requests are recorded (or `limitMs` passed): when the first and the last were seen. */
  const drain = async (target, limitMs) => {
    const started = Date.now();
    let first = null;
    let base = await recorded();
    let n = base;
    while (n < target && Date.now() - started < limitMs) {
      await sleep(50);
      n = await recorded();
      if (first === null && n > base) first = { at: Date.now(), n };
      if (first === null) base = n;
    }
    return { n, first, doneAt: Date.now() };
  };
  /**
   * The leg's checks: acknowledged vs recorded by key, and one lead per person (by the leg's phone range): no
   * phone with two leads, and every acknowledged person with one. A request the client gave up on (timeout) may
   * still have been accepted and recorded, so the counts wait for the acknowledged keys, not for a total.
   */
  const check = async (acked, operator) => {
    const keys = acked.map(([k]) => k);
    const people = [...new Set(acked.map(([, p]) => p))];
    const storedKeys = `SELECT substr(idempotency_key, 6) AS k FROM processed_events
        WHERE consumer = '${LEAD_CONSUMER}' AND idempotency_key IN (SELECT 'lead:' || x FROM unnest($1::text[]) x)`;
    let acc = await accounting(db, keys, storedKeys);
    for (const until = Date.now() + 60_000; acc.lost > 0 && Date.now() < until;) {
      await sleep(500);
      acc = await accounting(db, keys, storedKeys);
    }
    const [leads] = (
      await db.query(
        `SELECT count(*)::int AS leads, count(DISTINCT phone)::int AS people,
                count(*) FILTER (WHERE status = 'new')::int AS new, count(*) FILTER (WHERE status = 'junk')::int AS junk,
                count(*) FILTER (WHERE status = 'new' AND responsible_manager_id IS NULL)::int AS unassigned,
                count(DISTINCT phone) FILTER (WHERE phone = ANY($2::text[]))::int AS "ackedPeopleWithLead",
                (SELECT count(*)::int FROM lead_activities a JOIN leads l2 ON l2.id = a.lead_id
                  WHERE l2.phone LIKE $1 AND a.kind = 'request') AS requests,
                (SELECT count(*)::int FROM tasks t JOIN leads l3 ON l3.id = t.lead_id
                  WHERE l3.phone LIKE $1 AND t.kind = 'call_lead') AS "firstContactTasks"
           FROM leads WHERE phone LIKE $1`,
        [`+7${operator}%`, people],
      )
    ).rows;
    return {
      ...acc,
      ackedPeople: people.length,
      ...leads,
      onePerPerson: leads.leads === leads.people && leads.ackedPeopleWithLead === people.length,
    };
  };
  try {
    // Three managers: round robin between them, one capped (its capacity is reached during the run).
    const { rows: managers } = await db.query(
      `INSERT INTO managers (name, capacity) SELECT * FROM unnest($1::text[], $2::int[]) RETURNING id, name`,
      [
        ['Bench leads A', 'Bench leads B (capacity 300)', 'Bench leads C'],
        [null, 300, null],
      ],
    );
    procs.gateway = await startApp('gateway', { ...env, WEBSITE_CONNECTOR_PORT: undefined }, 'gateway-leads');
    procs['website-connector'] = await startConnector();

    // Warm-up: JIT, pools, queue leader (its own phone range).
    const warmMix = createLeadMix({ prefix: `LW${runId}`, operator: '903', repeat: LEADS_REPEAT, seed: 7 });
    const warm = await post(warmMix, 500, null);
    if (warm['2xx'] < 500) throw new Error(`leads warm-up: only ${warm['2xx']} of 500 accepted`);
    if ((await drain(500, 60_000)).n < 500)
      throw new Error('leads warm-up: the connector did not record 500');
    // The tables the warm-up filled, analyzed as autovacuum does on any live system (50 rows + 10 % changed).
    // Without it every plan here is made for never-analyzed tables and kept: the connector's named statements
    // settle on a generic plan during the warm-up, and the open-lead lookup by phone/email then walked every
    // open lead of the table per batch (20-100 ms per batch, a third of PostgreSQL's CPU per lead, growing with
    // the table) instead of the phone and email indexes (about 1 ms). --leads-no-analyze measures that case.
    if (!args.includes('--leads-no-analyze'))
      await db.query('ANALYZE leads, lead_activities, tasks, contacts, managers, processed_events');

    // Leg 1: end to end.
    log(`leads: ${LEADS_COUNT} requests end to end at ${LEADS_CONNECTIONS} connections`);
    // Each leg's own mobile code, used by no other phase (orders use +7916, the call mix's new callers +7926): the
    // one-lead-per-person check counts leads by phone prefix in the run's shared database.
    const mix = createLeadMix({ prefix: `LE${runId}`, operator: '917', repeat: LEADS_REPEAT, seed: 11 });
    const base = await recorded();
    let before, pgBefore, machine0, meter, startedAt;
    // Everything is measured from here (with wrk: after its bodies are made, as in the telephony phase).
    const snapshot = async () => {
      before = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
      pgBefore = new Map((await backendPids(db)).map((pid) => [pid, procStats(pid)?.cpuSeconds ?? 0]));
      machine0 = machineTicks();
      // The per-component split (gateway, connector, all of PostgreSQL for this database, the broker, the load
      // generator): what one lead costs the machine end to end.
      meter = await cpuMeter(db, Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, p.pid])));
      startedAt = Date.now();
    };
    const peak = { gateway: 0, 'website-connector': 0 };
    const sampler = setInterval(() => {
      for (const [n, p] of Object.entries(procs)) peak[n] = Math.max(peak[n], procStats(p.pid)?.rss ?? 0);
    }, 250);
    const acked = [];
    let firstAcceptedAt = null;
    let result;
    if (GENERATOR === 'wrk') {
      // wrk (as the pipeline and telephony): ~30 µs of CPU per request against autocannon's ~140 in this
      // process, on the same two cores. It runs for a duration, not a count: LEADS_SECONDS of the mix's
      // requests, made beforehand (enough for LEADS_MAX_RATE/s; running out fails the leg).
      const personOf = new Map();
      result = await load({
        generator: 'wrk',
        url: `http://127.0.0.1:${gwPort}/v1/website/leads`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        connections: LEADS_CONNECTIONS,
        duration: LEADS_SECONDS,
        items: () => {
          const { key, person, body } = mix.next();
          personOf.set(key, person);
          return { key, body };
        },
        itemsMax: LEADS_MAX_RATE * LEADS_SECONDS,
        onStart: snapshot,
      });
      // wrk reports no first response; its first 202s come within milliseconds of its start.
      firstAcceptedAt = startedAt;
      for (const key of result.acked) acked.push([key, personOf.get(key)]);
    } else {
      await snapshot();
      const running = post(mix, LEADS_COUNT, acked);
      const onResponse = (_client, status) => {
        if (status < 200 || status > 299) return;
        firstAcceptedAt = Date.now();
        running.off('response', onResponse);
      };
      running.on('response', onResponse);
      result = await running;
    }
    const loadEndedAt = Date.now();
    const accepted = result['2xx'];
    const recordedAtLoadEnd = (await recorded()) - base;
    const drained = await drain(base + accepted, 300_000);
    clearInterval(sampler);
    const after = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
    const machine1 = machineTicks();
    const cpuSplit = await meter.perItem(drained.n - base, ownGeneratorSeconds(result));
    const elapsed = (drained.doneAt - startedAt) / 1000;
    const pgCpu = (await backendPids(db)).reduce(
      (a, pid) => a + (procStats(pid)?.cpuSeconds ?? 0) - (pgBefore.get(pid) ?? 0),
      0,
    );
    const lag = (
      await db.query(
        `WITH l AS (
           SELECT extract(epoch FROM processed_at) * 1000
                  - ('x' || replace(left(event_id::text, 13), '-', ''))::bit(48)::bigint AS ms
             FROM processed_events WHERE consumer = $1 AND processed_at >= to_timestamp($2 / 1000.0))
         SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) p99 FROM l`,
        [LEAD_CONSUMER, startedAt],
      )
    ).rows[0];
    const endToEndSeconds = (drained.doneAt - (firstAcceptedAt ?? startedAt)) / 1000;
    const endToEnd = {
      generator: GENERATOR === 'wrk' ? 'wrk' : 'autocannon',
      requests: GENERATOR === 'wrk' ? result.requests.sent : LEADS_COUNT,
      // With wrk: the mix's counts over the bodies made beforehand, of which the first `requests` went out.
      sent: { ...mix.stats },
      accepted,
      acceptedPerSecond: Math.round(accepted / ((loadEndedAt - startedAt) / 1000)),
      ackLatencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      projectedPerSecondDuringLoad: Math.round(recordedAtLoadEnd / ((loadEndedAt - startedAt) / 1000)),
      projectedPerSecondEndToEnd: Math.round((drained.n - base) / endToEndSeconds),
      endToEndSeconds,
      drainSeconds: (drained.doneAt - loadEndedAt) / 1000,
      backlog: Math.max(0, base + accepted - drained.n),
      lagMs: { p50: Math.round(Number(lag.p50)), p99: Math.round(Number(lag.p99)) },
      errors: { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
      check: await check(acked, '917'),
      processes: Object.fromEntries(
        Object.keys(procs).map((n) => [
          n,
          {
            cpuPercent: Math.round(((after[n].cpuSeconds - before[n].cpuSeconds) / elapsed) * 100),
            peakRssMB: Math.round(peak[n] / 1048576),
          },
        ]),
      ),
      // CPU per recorded request: what a lead costs end to end, whatever else the machine runs meanwhile.
      cpuMsPerLead: Object.fromEntries([
        ...Object.keys(procs).map((n) => [
          n,
          Math.round(((after[n].cpuSeconds - before[n].cpuSeconds) * 1e5) / Math.max(1, drained.n - base)) /
            100,
        ]),
        ['postgres', Math.round((pgCpu * 1e5) / Math.max(1, drained.n - base)) / 100],
      ]),
      cpuMicrosPerLead: cpuSplit.cpuMicrosPerItem,
      cpuPercent: {
        postgresBenchDbBackends: Math.round((pgCpu / elapsed) * 100),
        machineBusy: Math.round(
          ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * cpus().length * 100,
        ),
        machineMax: cpus().length * 100,
      },
    };
    log(`leads end to end: ${JSON.stringify(endToEnd)}`);

    // Leg 2: the connector alone, on a queue filled while it was stopped.
    log(`leads: ${LEADS_COUNT} requests into the stopped connector's queue, then drained`);
    await stop(procs['website-connector']);
    delete procs['website-connector'];
    const mix2 = createLeadMix({ prefix: `LC${runId}`, operator: '927', repeat: LEADS_REPEAT, seed: 13 });
    const acked2 = [];
    const base2 = await recorded();
    const fill = await post(mix2, LEADS_COUNT, acked2);
    procs['website-connector'] = await startConnector();
    const cpu0 = procStats(procs['website-connector'].pid);
    const meter2 = await cpuMeter(db, { connector: procs['website-connector'].pid });
    const pg0 = new Map((await backendPids(db)).map((pid) => [pid, procStats(pid)?.cpuSeconds ?? 0]));
    const readyAt = Date.now();
    const drained2 = await drain(base2 + fill['2xx'], 300_000);
    const cpu1 = procStats(procs['website-connector'].pid);
    const split2 = await meter2.perItem(drained2.n - base2);
    const pgCpu2 = (await backendPids(db)).reduce(
      (a, pid) => a + (procStats(pid)?.cpuSeconds ?? 0) - (pg0.get(pid) ?? 0),
      0,
    );
    const drainedCount = drained2.n - base2;
    const drainSeconds = drained2.first ? (drained2.doneAt - drained2.first.at) / 1000 : null;
    const connectorAlone = {
      requests: LEADS_COUNT,
      accepted: fill['2xx'],
      acceptedPerSecondIngestOnly: Math.round(fill['2xx'] / fill.duration),
      projectedPerSecond: drainSeconds ? Math.round((drained2.n - drained2.first.n) / drainSeconds) : null,
      drainSeconds,
      backlog: Math.max(0, base2 + fill['2xx'] - drained2.n),
      // From the connector's readiness to the last request recorded (100 % = one core).
      connectorCpuPercent: Math.round(
        ((cpu1.cpuSeconds - cpu0.cpuSeconds) / ((drained2.doneAt - readyAt) / 1000)) * 100,
      ),
      // CPU spent per request: on a machine shared with other work the rate says little, this says what a lead
      // costs (connector + its PostgreSQL backends), and so what two idle cores could do.
      cpuMsPerLead: {
        connector: Math.round(((cpu1.cpuSeconds - cpu0.cpuSeconds) * 1e5) / drainedCount) / 100,
        postgres: Math.round((pgCpu2 * 1e5) / drainedCount) / 100,
      },
      cpuMicrosPerLead: split2.cpuMicrosPerItem,
      check: await check(acked2, '927'),
    };
    log(`leads connector alone: ${JSON.stringify(connectorAlone)}`);
    const split = (
      await db.query(
        `SELECT m.name, count(l.id)::int AS leads FROM managers m LEFT JOIN leads l ON l.responsible_manager_id = m.id
          WHERE m.id = ANY($1::uuid[]) GROUP BY m.name ORDER BY m.name`,
        [managers.map((m) => m.id)],
      )
    ).rows;
    const ok = (c) => c.lost === 0 && c.duplicated === 0 && c.onePerPerson;
    return {
      connections: LEADS_CONNECTIONS,
      repeatShare: LEADS_REPEAT,
      endToEnd,
      connectorAlone,
      managerSplit: Object.fromEntries(split.map((r) => [r.name, r.leads])),
      target: LEADS_TARGET,
      pass:
        endToEnd.projectedPerSecondEndToEnd >= LEADS_TARGET && ok(endToEnd.check) && ok(connectorAlone.check),
      phaseSeconds: Math.round((Date.now() - phaseStartedAt) / 1000),
    };
  } finally {
    await Promise.all(Object.values(procs).map(stop));
    await db.end();
  }
}

/**
 * Auth cost: two ingest-only gateways (no connector; nothing else of ours running), identical except that
 * one also honours a static bench key (NODE_ENV=test + BENCH_STATIC_PEER, strategy sb-static, tried first).
 * Each is driven in turn at AUTH_CONNECTIONS for AUTH_DURATION s, AUTH_ROUNDS times, alternating which goes
 * first; the queue is purged before each leg so both publish into the same state. Only one is under load at
 * a time; the idle one does nothing.
 */
async function runAuthCompare({ stack, ns, appEnv, token }) {
  const compareNs = `${ns}x`;
  const staticKey = randomBytes(24).toString('base64url');
  const env = {
    ...appEnv,
    AMQP_NAMESPACE: compareNs,
    // Same config overlay for both (config/test.json); the static peer has no own quota, so the default
    // must not bind either.
    NODE_ENV: 'test',
    PEER_DEFAULT_RATE_LIMIT_PER_MINUTE: '10000000',
    WEBSITE_CONNECTOR_PORT: undefined,
  };
  const ports = { auth: await freePort(), static: await freePort() };
  const tokens = { auth: token, static: staticKey };
  const gateways = {};
  try {
    gateways.auth = await startApp(
      'gateway',
      { ...env, GATEWAY_PORT: String(ports.auth), BENCH_STATIC_PEER: undefined },
      'gateway-auth',
    );
    gateways.static = await startApp(
      'gateway',
      { ...env, GATEWAY_PORT: String(ports.static), BENCH_STATIC_PEER: `${STATIC_PEER}:${staticKey}` },
      'gateway-static',
    );
    // Sanity: the static key works only where the hook is on, and the issued credential works on both.
    const probe = async (mode, key) => (await drive(ports[mode], key, { connections: 1, amount: 1 }))['2xx'];
    if ((await probe('auth', staticKey)) !== 0) throw new Error('auth gateway accepted the static key');
    if ((await probe('static', staticKey)) !== 1) throw new Error('static gateway refused the static key');
    if ((await probe('static', token)) !== 1) throw new Error('static gateway refused the issued credential');
    for (const mode of ['auth', 'static']) {
      const warm = await drive(ports[mode], tokens[mode], { connections: AUTH_CONNECTIONS, amount: 2000 });
      if (warm['2xx'] < 2000) throw new Error(`auth-compare warm-up (${mode}): ${warm['2xx']} of 2000`);
    }

    const legs = [];
    for (let round = 0; round < AUTH_ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? ['auth', 'static'] : ['static', 'auth']) {
        await withChannel(stack.amqpUrl, (ch) => ch.purgeQueue(`${compareNs}.website-connector`));
        log(`auth-compare round ${round + 1}/${AUTH_ROUNDS}: ${mode}, ${AUTH_CONNECTIONS} connections`);
        const pid = gateways[mode].pid;
        const before = procStats(pid);
        const startedAt = Date.now();
        const r = await drive(ports[mode], tokens[mode], {
          connections: AUTH_CONNECTIONS,
          duration: AUTH_DURATION,
        });
        const seconds = (Date.now() - startedAt) / 1000;
        const cpuSeconds = procStats(pid).cpuSeconds - before.cpuSeconds;
        legs.push({
          round: round + 1,
          mode,
          seconds,
          accepted: r['2xx'],
          acceptedPerSecond: Math.round(r['2xx'] / seconds),
          ackLatencyMs: { p50: r.latency.p50, p99: r.latency.p99 },
          gatewayCpuPercent: Math.round((cpuSeconds / seconds) * 100),
          gatewayCpuMsPer1000: r['2xx'] ? Math.round((cpuSeconds * 1e6) / r['2xx']) : null,
          errors: r.non2xx + r.errors + r.timeouts,
        });
        log(JSON.stringify(legs.at(-1)));
      }
    }
    const summary = (mode) => {
      const mine = legs.filter((l) => l.mode === mode);
      const sum = (f) => mine.reduce((a, l) => a + f(l), 0);
      const mean = (f) => Math.round((sum(f) / mine.length) * 100) / 100;
      return {
        acceptedPerSecond: Math.round(sum((l) => l.accepted) / sum((l) => l.seconds)),
        ackLatencyMs: { p50: mean((l) => l.ackLatencyMs.p50), p99: mean((l) => l.ackLatencyMs.p99) },
        gatewayCpuPercent: Math.round(mean((l) => l.gatewayCpuPercent)),
        gatewayCpuMsPer1000: Math.round(mean((l) => l.gatewayCpuMsPer1000 ?? 0)),
        errors: sum((l) => l.errors),
      };
    };
    const auth = summary('auth');
    const baseline = summary('static');
    const authCost = 1 - auth.acceptedPerSecond / baseline.acceptedPerSecond;
    // The same ratio within each round: its spread shows how much of the figure is noise.
    const perRound = [...new Set(legs.map((l) => l.round))].map((round) => {
      const leg = (mode) => legs.find((l) => l.round === round && l.mode === mode);
      return Math.round((1 - leg('auth').acceptedPerSecond / leg('static').acceptedPerSecond) * 1000) / 1000;
    });
    return {
      connections: AUTH_CONNECTIONS,
      durationSeconds: AUTH_DURATION,
      rounds: AUTH_ROUNDS,
      auth,
      static: baseline,
      authCost: Math.round(authCost * 1000) / 1000,
      authCostPerRound: perRound,
      cpuCostPerRequest:
        Math.round((auth.gatewayCpuMsPer1000 / baseline.gatewayCpuMsPer1000 - 1) * 1000) / 1000,
      limit: AUTH_COST_LIMIT,
      pass: authCost <= AUTH_COST_LIMIT,
      legs,
    };
  } finally {
    await Promise.all(Object.values(gateways).map(stop));
  }
}

/** `node dist/apps/console/src/cli.js …args --json` with env: its JSON output. */
function cli(cliArgs, env, timeout = 120_000) {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [join(ROOT, 'dist/apps/console/src/cli.js'), ...cliArgs, '--json'],
      { env: { ...process.env, ...env }, cwd: ROOT, timeout, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`cli ${cliArgs.join(' ')} failed: ${stderr || err.message}`));
        try {
          resolve(JSON.parse(stdout));
        } catch (e) {
          reject(new Error(`cli ${cliArgs.join(' ')}: unexpected output (${e.message})`));
        }
      },
    ),
  );
}

/** The sum of a Prometheus metric over all its label sets, from an app's /metrics (null if unreachable). */
async function scrapeMetric(port, name) {
  const text = await fetch(`http://127.0.0.1:${metricsPortOf.get(port) ?? port}/metrics`).then(
    (r) => (r.ok ? r.text() : null),
    () => null,
  );
  if (text === null) return null;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/**
 * Access-log cost (issue 4: throughput with logging on ≥ ACCESS_LOG_MIN_RATIO of the same with it off): two
 * ingest-only gateways (no connector), identical but for ACCESS_LOG_ENABLED, both on the run's database with
 * today's day partitions made (`cli access-log maintain`, as the console keeps them), driven in turn with the
 * issued credential at ACCESS_LOG_CONNECTIONS for ACCESS_LOG_DURATION s, ACCESS_LOG_ROUNDS times, alternating
 * which goes first; the queue is purged before each leg. Afterwards, once the "on" writer has flushed: the
 * access_log rows of each "on" leg against its responses (one row per request expected), and the records the
 * writer dropped (switchboard_access_log_dropped_total).
 */
async function runAccessLogCompare({ stack, ns, databaseUrl, appEnv, token }) {
  const compareNs = `${ns}l`;
  const env = {
    ...appEnv,
    AMQP_NAMESPACE: compareNs,
    WEBSITE_CONNECTOR_PORT: undefined,
  };
  const maintained = await cli(['access-log', 'maintain'], { ...appEnv, DATABASE_URL: databaseUrl });
  const ports = { on: await freePort(), off: await freePort() };
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const gateways = {};
  try {
    gateways.on = await startApp(
      'gateway',
      { ...env, GATEWAY_PORT: String(ports.on), ACCESS_LOG_ENABLED: 'true' },
      'gateway-access-log-on',
    );
    gateways.off = await startApp(
      'gateway',
      { ...env, GATEWAY_PORT: String(ports.off), ACCESS_LOG_ENABLED: 'false' },
      'gateway-access-log-off',
    );
    const rowsNow = async () => Number((await db.query('SELECT count(*) n FROM access_log')).rows[0].n);
    for (const mode of ['on', 'off']) {
      const warm = await drive(ports[mode], token, { connections: ACCESS_LOG_CONNECTIONS, amount: 2000 });
      if (warm['2xx'] < 2000) throw new Error(`access-log-compare warm-up (${mode}): ${warm['2xx']} of 2000`);
    }

    const legs = [];
    for (let round = 0; round < ACCESS_LOG_ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? ['on', 'off'] : ['off', 'on']) {
        await withChannel(stack.amqpUrl, (ch) => ch.purgeQueue(`${compareNs}.website-connector`));
        log(
          `access-log-compare round ${round + 1}/${ACCESS_LOG_ROUNDS}: logging ${mode}, ${ACCESS_LOG_CONNECTIONS} connections`,
        );
        const pid = gateways[mode].pid;
        const pgBefore = new Map((await backendPids(db)).map((p) => [p, procStats(p)?.cpuSeconds ?? 0]));
        const before = procStats(pid);
        const shared = [...postgresPids(), ...brokerPids()];
        const shared0 = new Map(shared.map((p) => [p, procStats(p)?.cpuSeconds ?? 0]));
        const [machine0, bench0] = [machineTicks(), process.cpuUsage()];
        const startedAt = Date.now();
        const r = await drive(ports[mode], token, {
          connections: ACCESS_LOG_CONNECTIONS,
          duration: ACCESS_LOG_DURATION,
        });
        const endedAt = Date.now();
        const seconds = (endedAt - startedAt) / 1000;
        const cpuSeconds = procStats(pid).cpuSeconds - before.cpuSeconds;
        const [machine1, bench1] = [machineTicks(), process.cpuUsage(bench0)];
        let sharedCpu = 0;
        for (const p of shared) sharedCpu += (procStats(p)?.cpuSeconds ?? shared0.get(p)) - shared0.get(p);
        // The bench database's backends (the writer's pool among them; ours idles): what the INSERTs cost.
        let pgCpu = 0;
        for (const p of await backendPids(db))
          pgCpu += (procStats(p)?.cpuSeconds ?? 0) - (pgBefore.get(p) ?? 0);
        legs.push({
          round: round + 1,
          mode,
          seconds,
          startedAt,
          endedAt,
          accepted: r['2xx'],
          responses: r['2xx'] + r.non2xx,
          sent: r.requests.sent,
          acceptedPerSecond: Math.round(r['2xx'] / seconds),
          ackLatencyMs: { p50: r.latency.p50, p99: r.latency.p99 },
          gatewayCpuPercent: Math.round((cpuSeconds / seconds) * 100),
          gatewayCpuMsPer1000: r['2xx'] ? Math.round((cpuSeconds * 1e6) / r['2xx']) : null,
          postgresCpuPercent: Math.round((pgCpu / seconds) * 100),
          // The whole machine (100 % = a core) and the load generator: what is left is someone else's, and a
          // leg sharing the cores with others measures them too.
          machineBusyPercent: Math.round(
            ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * cpus().length * 100,
          ),
          // The bench process, and wrk's own process when it drove the leg.
          benchDriverCpuPercent: Math.round(
            (((bench1.user + bench1.system) / 1e6 + (r.generator === 'wrk' ? r.generatorCpuSeconds : 0)) /
              seconds) *
              100,
          ),
          // All of PostgreSQL (WAL writer, checkpointer, other databases) and RabbitMQ.
          postgresAndBrokerCpuPercent: Math.round((sharedCpu / seconds) * 100),
          errors: r.non2xx + r.errors + r.timeouts,
        });
        log(JSON.stringify(legs.at(-1)));
      }
    }

    // The writer flushes every accessLog.flushIntervalMs: wait until it holds nothing and the count settles.
    const flushStartedAt = Date.now();
    let rows = await rowsNow();
    for (let last = -1; Date.now() - flushStartedAt < 60_000;) {
      const buffered = await scrapeMetric(ports.on, 'switchboard_access_log_buffered');
      if (buffered === 0 && rows === last) break;
      await sleep(500);
      last = rows;
      rows = await rowsNow();
    }
    for (const [i, leg] of legs.entries()) {
      // Only the "on" gateway writes (the "off" one's written_total is reported): its rows from a leg's start
      // to the next "on" leg's are that leg's, the tail of requests cut off at its end included (under load
      // their started_at can fall after the leg ended).
      if (leg.mode === 'off') continue;
      const until = legs.slice(i + 1).find((l) => l.mode === 'on')?.startedAt ?? Date.now();
      leg.accessLogRows = Number(
        (
          await db.query(
            'SELECT count(*) n FROM access_log WHERE started_at >= to_timestamp($1 / 1000.0) AND started_at < to_timestamp($2 / 1000.0)',
            [leg.startedAt, until],
          )
        ).rows[0].n,
      );
    }
    const [dropped, written, offWritten] = await Promise.all([
      scrapeMetric(ports.on, 'switchboard_access_log_dropped_total'),
      scrapeMetric(ports.on, 'switchboard_access_log_written_total'),
      scrapeMetric(ports.off, 'switchboard_access_log_written_total'),
    ]);
    const { rows: where } = await db.query(
      `SELECT tableoid::regclass::text AS partition, count(*)::int AS n FROM access_log GROUP BY 1 ORDER BY 1`,
    );

    const summary = (mode) => {
      const mine = legs.filter((l) => l.mode === mode);
      const sum = (f) => mine.reduce((a, l) => a + f(l), 0);
      const mean = (f) => Math.round((sum(f) / mine.length) * 100) / 100;
      return {
        acceptedPerSecond: Math.round(sum((l) => l.accepted) / sum((l) => l.seconds)),
        ackLatencyMs: { p50: mean((l) => l.ackLatencyMs.p50), p99: mean((l) => l.ackLatencyMs.p99) },
        gatewayCpuPercent: Math.round(mean((l) => l.gatewayCpuPercent)),
        gatewayCpuMsPer1000: Math.round(mean((l) => l.gatewayCpuMsPer1000 ?? 0)),
        postgresCpuPercent: Math.round(mean((l) => l.postgresCpuPercent)),
        machineBusyPercent: Math.round(mean((l) => l.machineBusyPercent)),
        postgresAndBrokerCpuPercent: Math.round(mean((l) => l.postgresAndBrokerCpuPercent)),
        othersCpuPercent: Math.round(
          mean(
            (l) =>
              l.machineBusyPercent -
              l.gatewayCpuPercent -
              l.postgresAndBrokerCpuPercent -
              l.benchDriverCpuPercent,
          ),
        ),
        responses: sum((l) => l.responses),
        sent: sum((l) => l.sent),
        accessLogRows: mode === 'on' ? sum((l) => l.accessLogRows) : null,
        errors: sum((l) => l.errors),
      };
    };
    const on = summary('on');
    const off = summary('off');
    const ratio = on.acceptedPerSecond / off.acceptedPerSecond;
    const perRound = [...new Set(legs.map((l) => l.round))].map((round) => {
      const leg = (mode) => legs.find((l) => l.round === round && l.mode === mode);
      return Math.round((leg('on').acceptedPerSecond / leg('off').acceptedPerSecond) * 1000) / 1000;
    });
    return {
      connections: ACCESS_LOG_CONNECTIONS,
      durationSeconds: ACCESS_LOG_DURATION,
      rounds: ACCESS_LOG_ROUNDS,
      on,
      off,
      ratio: Math.round(ratio * 1000) / 1000,
      ratioPerRound: perRound,
      cpuCostPerRequest: Math.round((on.gatewayCpuMsPer1000 / off.gatewayCpuMsPer1000 - 1) * 1000) / 1000,
      minRatio: ACCESS_LOG_MIN_RATIO,
      pass: ratio >= ACCESS_LOG_MIN_RATIO,
      machineMaxPercent: cpus().length * 100,
      // One row per request the "on" gateway answered in its legs (requests cut off at a leg's end, which the
      // gateway still answers and records, add up to one per connection); the "off" gateway writes none.
      rowsPerRequest: on.responses ? Math.round((on.accessLogRows / on.responses) * 10000) / 10000 : null,
      rowsPerRequestSent: on.sent ? Math.round((on.accessLogRows / on.sent) * 10000) / 10000 : null,
      // Every answered request has its row, none beyond those sent, nothing dropped.
      rowsOk: on.accessLogRows >= on.responses && on.accessLogRows <= on.sent && dropped === 0,
      writtenTotal: { on: written, off: offWritten },
      droppedTotal: dropped,
      flushWaitSeconds: Math.round((Date.now() - flushStartedAt) / 100) / 10,
      partitionsCreated: maintained.created ?? [],
      rowsByPartition: Object.fromEntries(where.map((w) => [w.partition, w.n])),
      legs: legs.map(({ startedAt: _s, endedAt: _e, ...l }) => l),
    };
  } finally {
    await Promise.all(Object.values(gateways).map(stop));
    await db.end();
  }
}

/** The access-log search phase's own database: a fixed name, so --keep-db can reuse a filled one. */
const ACCESS_LOG_DB = 'sb_bench_access_log';
/** What a fill looks like; a kept database filled otherwise (or with another row count) is refilled. */
const ACCESS_LOG_FILL = { version: 1, days: 30, peers: 200, websitePeers: 150 };
const accessLogPeer = (k) => `peer-${String(k).padStart(3, '0')}`;
/**
 * Searched peers, heaviest to lightest (peer k's share of the rows is (k+1)^(1/3) - k^(1/3) over 200^(1/3):
 * peer-000 17 %, peer-010 1.1 %, peer-199 0.17 %), plus a peer with no records at all.
 */
const ACCESS_LOG_SEARCH_PEERS = [
  ...[0, 1, 2, 3, 5, 7, 10, 14, 20, 28, 40, 55, 70, 90, 110, 130, 150, 170, 185, 199].map(accessLogPeer),
];
const ACCESS_LOG_WARM_REPEATS = 4;
const ACCESS_LOG_WINDOW_DAYS = 7;

const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
const msStats = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return {
    n: sorted.length,
    p50: r(percentile(sorted, 0.5)),
    p95: r(percentile(sorted, 0.95)),
    max: r(sorted.at(-1)),
  };
};

/**
 * Fills access_log with `rows` records over ACCESS_LOG_FILL.days days ending at `anchor` (insertAccessLog, in
 * history.mjs), in time order (as a
 * gateway writes them): day partitions first (AccessLogPartitions.ensure, the code the console's maintenance
 * runs), then one INSERT … SELECT generate_series per worker, each over a contiguous slice of time (so of
 * partitions), in parallel. Peers are skewed (peer k = floor(200·u³)); services by peer kind; ~96 % accepted
 * (with an event id), the rest rejected or failed with their codes; 1 % unauthenticated (no peer); 0.5 %
 * outbound. Then VACUUM (ANALYZE), as autovacuum would have long done on such a table, and a CHECKPOINT.
 */
async function fillAccessLog(url, rows, anchor) {
  const t0 = Date.now();
  const workers = await insertAccessLog(url, rows, anchor, ACCESS_LOG_FILL);
  const insertSeconds = (Date.now() - t0) / 1000;
  log(
    `access-log-search: ${num(rows)} rows inserted in ${insertSeconds} s (${workers} workers); vacuum, analyze`,
  );
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const t1 = Date.now();
    await c.query('VACUUM (ANALYZE) access_log');
    const vacuumSeconds = (Date.now() - t1) / 1000;
    await c.query('CHECKPOINT').catch((err) => log(`access-log-search: no checkpoint (${err.message})`));
    await c.query(
      `CREATE TABLE bench_access_log_fill (version int, rows bigint, anchor timestamptz, days int, peers int,
                                            workers int, insert_seconds real, vacuum_seconds real,
                                            filled_at timestamptz DEFAULT now());
       INSERT INTO bench_access_log_fill (version, rows, anchor, days, peers, workers, insert_seconds, vacuum_seconds)
       VALUES (${ACCESS_LOG_FILL.version}, ${rows}, '${anchor.toISOString()}', ${ACCESS_LOG_FILL.days},
               ${ACCESS_LOG_FILL.peers}, ${workers}, ${insertSeconds}, ${vacuumSeconds})`,
    );
  } finally {
    await c.end();
  }
}

/** The kept database's fill, when it is one of `rows` rows of this fill version (else null). */
async function keptFill(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT version, rows::float8 AS rows, anchor, days, peers, workers, insert_seconds, vacuum_seconds, filled_at
         FROM bench_access_log_fill`,
    );
    return rows[0] ?? null;
  } catch {
    return null; // no such table: not a finished fill
  } finally {
    await c.end();
  }
}

async function dropDatabase(stack, name) {
  const admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * Access-log search (issue 4: with 10 million records, the first page of a search by peer and time range in
 * ≤ 100 ms): a database of its own (ACCESS_LOG_DB) migrated and filled with ACCESS_LOG_ROWS records
 * (fillAccessLog), reused when --keep-db kept one of the same rows; then a console, and GET
 * /v1/admin/access-log?peer=&from=&to=&limit=100 over the last ACCESS_LOG_WINDOW_DAYS days of the data for each
 * of ACCESS_LOG_SEARCH_PEERS, one at a time from an HTTP client: first each peer's first query (cold: its index
 * and heap pages not yet read by this console; PostgreSQL's and the OS's caches are not dropped), then
 * ACCESS_LOG_WARM_REPEATS rounds more. PASS when p95 over all of them is ≤ ACCESS_LOG_SEARCH_LIMIT_MS.
 */
async function runAccessLogSearch({ stack, ns, appEnv }) {
  const phaseStartedAt = Date.now();
  const rows = ACCESS_LOG_ROWS;
  const url = await createDatabase(stack.databaseUrl, ACCESS_LOG_DB);
  let fill = await keptFill(url);
  let reused = true;
  if (!fill || fill.version !== ACCESS_LOG_FILL.version || fill.rows !== rows) {
    reused = false;
    if (fill)
      log(`access-log-search: kept ${ACCESS_LOG_DB} holds another fill (${num(fill.rows)} rows); refilling`);
    await dropDatabase(stack, ACCESS_LOG_DB);
    await createDatabase(stack.databaseUrl, ACCESS_LOG_DB);
    await cli(['migrate'], { ...appEnv, DATABASE_URL: url });
    log(`access-log-search: filling ${num(rows)} rows into ${ACCESS_LOG_DB}`);
    await fillAccessLog(url, rows, new Date());
    fill = await keptFill(url);
  } else {
    log(
      `access-log-search: reusing ${ACCESS_LOG_DB} (${num(fill.rows)} rows, filled ${fill.filled_at.toISOString()})`,
    );
    await cli(['migrate'], { ...appEnv, DATABASE_URL: url });
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  let consoleApp = null;
  try {
    const [{ size, parts }] = (
      await db.query(
        `SELECT pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))) AS size, count(*)::int AS parts
           FROM pg_inherits i WHERE i.inhparent = 'access_log'::regclass`,
      )
    ).rows;
    const port = await freePort();
    const adminToken = randomBytes(24).toString('base64url');
    consoleApp = await spawnProcess(
      'console-access-log',
      [join(ROOT, 'dist/apps/console/src/main.js')],
      {
        ...appEnv,
        DATABASE_URL: url,
        AMQP_NAMESPACE: `${ns}s`,
        CONSOLE_PORT: String(port),
        ADMIN_TOKEN: adminToken,
        GATEWAY_PORT: undefined,
        WEBSITE_CONNECTOR_PORT: undefined,
      },
      port,
    );
    // Its start-up maintenance pass and first alert round, out of the way.
    await sleep(3000);
    // The data's end, not now: a kept database is searched as it was when filled.
    const to = new Date(fill.anchor.getTime() + 1);
    const from = new Date(to.getTime() - ACCESS_LOG_WINDOW_DAYS * DAY_MS);
    const search = async (peer) => {
      const q = new URLSearchParams({ peer, from: from.toISOString(), to: to.toISOString(), limit: '100' });
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/v1/admin/access-log?${q}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      const body = await res.json();
      const ms = performance.now() - t;
      if (res.status !== 200)
        throw new Error(`access-log search ${peer}: ${res.status} ${JSON.stringify(body)}`);
      const bad = body.items.find(
        (i) => i.peerId !== peer || i.startedAt < from.toISOString() || i.startedAt >= to.toISOString(),
      );
      if (bad)
        throw new Error(`access-log search ${peer}: an item outside the filter: ${JSON.stringify(bad)}`);
      return { ms, items: body.items.length, more: body.nextCursor !== null };
    };
    // The connection, the route and the query path warmed on a peer that has no records (no data pages read).
    for (let i = 0; i < 3; i++) await search('peer-none');

    const cold = [];
    const warm = [];
    const perPeer = Object.fromEntries(ACCESS_LOG_SEARCH_PEERS.map((p) => [p, { ms: [] }]));
    for (const peer of ACCESS_LOG_SEARCH_PEERS) {
      const r = await search(peer);
      cold.push(r.ms);
      Object.assign(perPeer[peer], { items: r.items, more: r.more, coldMs: Math.round(r.ms * 10) / 10 });
    }
    for (let round = 0; round < ACCESS_LOG_WARM_REPEATS; round++) {
      for (const peer of ACCESS_LOG_SEARCH_PEERS) {
        const r = await search(peer);
        warm.push(r.ms);
        perPeer[peer].ms.push(r.ms);
      }
    }
    const all = msStats([...cold, ...warm]);
    const problems = [];
    // After the timing (these read the same pages): each peer's records in the window, and the plan and
    // server-side time of the console's own query for the heaviest and the lightest peer.
    for (const peer of ACCESS_LOG_SEARCH_PEERS) {
      const [{ n }] = (
        await db.query(
          'SELECT count(*)::int n FROM access_log WHERE peer_id = $1 AND started_at >= $2 AND started_at < $3',
          [peer, from, to],
        )
      ).rows;
      const p = perPeer[peer];
      perPeer[peer] = { rowsInWindow: n, items: p.items, coldMs: p.coldMs, warm: msStats(p.ms) };
      if (p.items !== Math.min(100, n) || p.more !== n > 100)
        problems.push(`${peer}: a first page of ${p.items} items (more: ${p.more}) for ${n} records`);
    }
    const explain = {};
    try {
      const { accessLogPageSql } = createRequire(import.meta.url)(
        join(ROOT, 'dist/apps/console/src/access-log-query.service.js'),
      );
      for (const peer of [ACCESS_LOG_SEARCH_PEERS[0], ACCESS_LOG_SEARCH_PEERS.at(-1)]) {
        const { sql, params } = accessLogPageSql(
          { peer, from: from.toISOString(), to: to.toISOString() },
          101,
        );
        const [plan] = (await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params)).rows[0][
          'QUERY PLAN'
        ];
        const nodes = [];
        const walk = (n) => {
          if (n['Relation Name']) nodes.push(`${n['Node Type']} ${n['Index Name'] ?? n['Relation Name']}`);
          (n.Plans ?? []).forEach(walk);
        };
        walk(plan.Plan);
        explain[peer] = {
          planningMs: plan['Planning Time'],
          executionMs: plan['Execution Time'],
          top: plan.Plan['Node Type'],
          scans: [...new Set(nodes)],
          partitionsScanned: nodes.length,
          sharedBuffers: { hit: plan.Plan['Shared Hit Blocks'], read: plan.Plan['Shared Read Blocks'] },
        };
      }
    } catch (err) {
      explain.error = err.message;
    }
    const report = {
      rows,
      reusedKeptDatabase: reused,
      fill: {
        days: fill.days,
        peers: fill.peers,
        workers: fill.workers,
        insertSeconds: fill.insert_seconds,
        vacuumAnalyzeSeconds: fill.vacuum_seconds,
        rowsPerSecond: Math.round(rows / fill.insert_seconds),
        filledAt: fill.filled_at.toISOString(),
      },
      table: { partitions: parts, size },
      query: {
        window: { from: from.toISOString(), to: to.toISOString(), days: ACCESS_LOG_WINDOW_DAYS },
        limit: 100,
        peers: ACCESS_LOG_SEARCH_PEERS.length,
        warmRepeats: ACCESS_LOG_WARM_REPEATS,
      },
      ms: all,
      coldMs: msStats(cold),
      warmMs: msStats(warm),
      limitMs: ACCESS_LOG_SEARCH_LIMIT_MS,
      pass: all.p95 <= ACCESS_LOG_SEARCH_LIMIT_MS && problems.length === 0,
      problems,
      perPeer,
      explain,
      phaseSeconds: Math.round((Date.now() - phaseStartedAt) / 1000),
    };
    log(
      `access-log-search: ${JSON.stringify({ ms: report.ms, coldMs: report.coldMs, warmMs: report.warmMs })}`,
    );
    return report;
  } finally {
    if (consoleApp) await stop(consoleApp);
    await db.end();
    if (args.includes('--keep-db'))
      log(`kept database ${ACCESS_LOG_DB} (${num(rows)} rows) for the next run`);
    else
      await dropDatabase(stack, ACCESS_LOG_DB).catch((err) => log(`drop ${ACCESS_LOG_DB}: ${err.message}`));
  }
}

const pct = (x) => `${(x * 100).toFixed(1)} %`;

const num = (x) => (x === null || x === undefined ? '-' : Number(x).toLocaleString('en-US'));

/** `acknowledged / lost / duplicated`, flagged when anything acknowledged was lost or stored twice. */
function accountingCell(a) {
  if (!a) return '-';
  if (a.lost === undefined) return `${num(a.acknowledged)} / - / -`;
  const bad = a.lost > 0 || a.duplicated > 0;
  return `${num(a.acknowledged)} / ${num(a.lost)} / ${num(a.duplicated)}${bad ? ' **DATA LOSS OR DUPLICATES**' : ''}`;
}

function telephonyMarkdown(t) {
  const us = (n) => t.cpu?.cpuMicrosPerItem[n] ?? '-';
  const proc = (n) =>
    t.processes[n] ? `${t.processes[n].cpuPercent} / ${t.processes[n].peakRssMB}` : '- / -';
  const c = t.calls;
  return [
    '',
    `Telephony (call-event mix, ${t.sent.eventsPerCall} events per call, ${t.connections} connections, ${t.durationSeconds} s; issue 5 target: ≥ ${num(t.target)} events/s merged end to end):`,
    '',
    '| accepted/s | ack p50 ms | ack p99 ms | merged/s (during load) | merged/s (end to end) | drained | lag p50 ms | lag p99 ms | calls / completed | gateway CPU % / peak RSS MB | connector CPU % / peak RSS MB | PostgreSQL CPU % (bench DB) | errors | acknowledged / lost / duplicated |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${t.acceptedPerSecond} | ${t.ackLatencyMs.p50} | ${t.ackLatencyMs.p99} | ${t.mergedPerSecondDuringLoad} | ${t.mergedPerSecondEndToEnd ?? '-'} | ${t.drained ? `yes, ${t.drainSeconds} s` : `no (${num(t.backlog)} left after ${t.drainSeconds} s)`} | ${t.lagMs.p50} | ${t.lagMs.p99} | ${num(c.logs)} / ${num(c.completed)} | ${proc('gateway')} | ${proc('telephony-connector')} | ${t.cpuPercent.postgresBenchDbBackends} | ${t.errors.non2xx + t.errors.errors + t.errors.timeouts} | ${accountingCell(t.accounting)} |`,
    '',
    `Merged end to end: **${num(t.mergedPerSecondEndToEnd)} events/s** (${num(t.merged)} call_events rows in ${t.endToEndSeconds} s from the first 202${t.mergedPerSecondDraining ? `; ${num(t.mergedPerSecondDraining)}/s while draining, the load stopped` : ''}) against ${num(t.target)}: ${t.pass ? 'PASS' : 'SHORT'}${t.mergedPerSecondEndToEnd ? ` (${((t.mergedPerSecondEndToEnd / t.target) * 100).toFixed(0)} % of target)` : ''}. ` +
      `Calls: ${num(c.endedMerged)} with their end merged, ${num(c.completed)} completed; ${num(c.newLead)} new leads, ${num(c.linkedToOpenLead)} linked to an open lead, ${num(c.linkedToContact)} to a contact; call-back tasks ${num(t.callbackTasks.open)} open, ${num(t.callbackTasks.closed)} closed. ` +
      `CPU over the phase (100 % = a core, ${t.cpuPercent.machineMax} % in all): machine ${t.cpuPercent.machineBusy} %, PostgreSQL (bench DB) ${t.cpuPercent.postgresBenchDbBackends} %, RabbitMQ (shared) ${t.cpuPercent.rabbitmqBroker} %, load generator ${t.cpuPercent.benchDriver} %.`,
    ...(t.cpu
      ? [
          '',
          `CPU per merged event, µs (${t.loadGenerator.generator}): gateway ${us('gateway')} / connector ${us('telephony-connector')} / PostgreSQL ${us('postgres')} / RabbitMQ ${us('rabbitmq')} / load generator ${us('loadGenerator')} = **${us('total')}**; machine busy ${t.cpu.machineBusyPercent} %.`,
        ]
      : []),
  ];
}

function accessLogMarkdown({ compare: c, search: s }) {
  const lines = [];
  if (c) {
    const row = (label, m) =>
      `| ${label} | ${m.acceptedPerSecond} | ${m.ackLatencyMs.p50} | ${m.ackLatencyMs.p99} | ${m.gatewayCpuPercent} | ${m.gatewayCpuMsPer1000} | ${m.postgresCpuPercent} | ${num(m.accessLogRows)} | ${m.errors} |`;
    lines.push(
      '',
      `Access log cost (gateway only, ingest-only, issued credential, ${c.connections} connections, ${c.durationSeconds} s × ${c.rounds} round(s) per mode, alternating; issue 4: on ≥ ${pct(c.minRatio)} of off):`,
      '',
      '| access log | accepted/s | ack p50 ms | ack p99 ms | gateway CPU % | gateway CPU ms / 1000 accepted | PostgreSQL CPU % (bench DB) | access_log rows | errors |',
      '|---|---|---|---|---|---|---|---|---|',
      row('on (ACCESS_LOG_ENABLED=true)', c.on),
      row('off (ACCESS_LOG_ENABLED=false)', c.off),
      '',
      `Machine CPU during the legs (100 % = a core, ${c.machineMaxPercent} % in all): on ${c.on.machineBusyPercent} %, off ${c.off.machineBusyPercent} %; all of PostgreSQL and RabbitMQ: on ${c.on.postgresAndBrokerCpuPercent} %, off ${c.off.postgresAndBrokerCpuPercent} %; neither those, the gateway nor the load generator (other work on the machine, which makes the ratio noisy): on ${c.on.othersCpuPercent} %, off ${c.off.othersCpuPercent} %.`,
      '',
      `On/off accepted/s = **${pct(c.ratio)}** (minimum ${pct(c.minRatio)}: ${c.pass ? 'PASS' : 'FAIL'}; per round: ${c.ratioPerRound.map(pct).join(', ')}); gateway CPU per accepted request ${c.cpuCostPerRequest >= 0 ? '+' : ''}${pct(c.cpuCostPerRequest)}. ` +
        `Rows: ${num(c.on.accessLogRows)} access_log rows for ${num(c.on.responses)} responses (${num(c.on.sent)} requests sent, the rest cut off at a leg's end) in the "on" legs: ${c.rowsPerRequest} per response, ${c.rowsPerRequestSent} per request sent; written by the "off" gateway: ${num(c.writtenTotal.off)}; dropped (switchboard_access_log_dropped_total): ${num(c.droppedTotal)} — ${c.rowsOk ? 'one row per request' : 'ROWS MISSING OR DROPPED'}.`,
    );
  }
  if (s) {
    const peers = Object.entries(s.perPeer);
    const heavy = peers[0];
    const light = peers.at(-1);
    lines.push(
      '',
      `Access log search (issue 4: first page ≤ ${s.limitMs} ms at 10,000,000 records): ${num(s.rows)} records over ${s.fill.days} days in ${s.table.partitions} partitions (${s.table.size}), ${s.fill.peers} peers (skewed); GET /v1/admin/access-log?peer=&from=&to=&limit=${s.query.limit} over the last ${s.query.window.days} days, ${s.query.peers} peers one at a time, then ${s.query.warmRepeats} rounds more, from an HTTP client:`,
      '',
      '| queries | n | p50 ms | p95 ms | max ms |',
      '|---|---|---|---|---|',
      ...[
        ['all', s.ms],
        ['first per peer (not read before by this console; caches not dropped)', s.coldMs],
        ['repeats', s.warmMs],
      ].map(([label, m]) => `| ${label} | ${m.n} | ${m.p50} | ${m.p95} | ${m.max} |`),
      '',
      `p95 **${s.ms.p95} ms** (limit ${s.limitMs} ms: ${s.pass ? 'PASS' : 'FAIL'})${s.problems.length ? `; problems: ${s.problems.join('; ')}` : ''}. ` +
        `Records in the window: ${heavy[0]} ${num(heavy[1].rowsInWindow)} … ${light[0]} ${num(light[1].rowsInWindow)}. ` +
        `Fill: ${s.reusedKeptDatabase ? `kept database reused (filled ${s.fill.filledAt} in` : '`INSERT … SELECT generate_series` in'} ${s.fill.insertSeconds} s with ${s.fill.workers} workers (${num(s.fill.rowsPerSecond)} rows/s)${s.reusedKeptDatabase ? ')' : ''}, VACUUM (ANALYZE) ${s.fill.vacuumAnalyzeSeconds} s; phase ${s.phaseSeconds} s.` +
        Object.entries(s.explain)
          .filter(([k]) => k !== 'error')
          .map(
            ([peer, e]) =>
              ` Server side (EXPLAIN ANALYZE, after the timing) ${peer}: planning ${e.planningMs} ms, execution ${e.executionMs} ms, ${e.top} over ${e.partitionsScanned} partition scan(s) (${e.scans
                .map((x) => x.replace(/^Index Scan /, ''))
                .slice(0, 2)
                .join(', ')}…).`,
          )
          .join(''),
    );
  }
  return lines;
}

/** `gateway 280, postgres 200, …, total 900` from a cpuMeter split. */
const microsCell = (m) =>
  m
    ? Object.entries(m)
        .map(([n, v]) => `${n} ${v}`)
        .join(', ')
    : '-';

function leadsMarkdown(l) {
  const e = l.endToEnd;
  const c = l.connectorAlone;
  const checkCell = (k) =>
    `${accountingCell(k)}; ${num(k.leads)} leads for ${num(k.people)} people${k.onePerPerson ? '' : ' **NOT ONE LEAD PER PERSON**'}`;
  return [
    '',
    `Leads (website.lead.submitted, ${pct(l.repeatShare)} repeat people, ${l.connections} connections, ${e.generator === 'wrk' ? `end to end ${num(e.requests)} requests in ${LEADS_SECONDS} s from wrk, connector alone ${num(LEADS_COUNT)}` : `${num(e.requests)} requests per leg`}; issue 14 target: ≥ ${num(l.target)} leads/s end to end):`,
    '',
    '| leg | accepted/s | ack p50 / p99 ms | projected/s | lag p50 / p99 ms | gateway CPU % / peak RSS MB | connector CPU % / peak RSS MB | PostgreSQL CPU % (bench DB) | errors | acknowledged / lost / duplicated; leads |',
    '|---|---|---|---|---|---|---|---|---|---|',
    `| end to end | ${e.acceptedPerSecond} | ${e.ackLatencyMs.p50} / ${e.ackLatencyMs.p99} | ${num(e.projectedPerSecondEndToEnd)} (during load ${num(e.projectedPerSecondDuringLoad)}) | ${e.lagMs.p50} / ${e.lagMs.p99} | ${e.processes.gateway.cpuPercent} / ${e.processes.gateway.peakRssMB} | ${e.processes['website-connector'].cpuPercent} / ${e.processes['website-connector'].peakRssMB} | ${e.cpuPercent.postgresBenchDbBackends} | ${e.errors.non2xx + e.errors.errors + e.errors.timeouts} | ${checkCell(e.check)} |`,
    `| connector alone (queue pre-filled) | ${c.acceptedPerSecondIngestOnly} (ingest only) | - | ${num(c.projectedPerSecond)} | - | - | ${c.connectorCpuPercent} / - | - | - | ${checkCell(c.check)} |`,
    '',
    `CPU µs per lead (whole split: all PostgreSQL processes of the bench database, the broker, the load generator): end to end ${microsCell(e.cpuMicrosPerLead)}; connector alone ${microsCell(c.cpuMicrosPerLead)}.`,
    '',
    `CPU per lead: end to end gateway ${e.cpuMsPerLead.gateway} ms, connector ${e.cpuMsPerLead['website-connector']} ms, PostgreSQL (bench DB backends) ${e.cpuMsPerLead.postgres} ms; connector alone: connector ${c.cpuMsPerLead.connector} ms, PostgreSQL ${c.cpuMsPerLead.postgres} ms.`,
    '',
    `End to end: **${num(e.projectedPerSecondEndToEnd)} leads/s** (${num(e.accepted)} accepted, recorded in ${e.endToEndSeconds} s from the first 202; backlog left ${num(e.backlog)}) against ${num(l.target)}: ${l.pass ? 'PASS' : 'SHORT'}. Connector alone: ${num(c.projectedPerSecond)} leads/s. ` +
      `Managers: ${Object.entries(l.managerSplit)
        .map(([n, k]) => `${n} ${num(k)}`)
        .join(', ')}. Machine busy ${e.cpuPercent.machineBusy} % of ${e.cpuPercent.machineMax} %.`,
  ];
}

/** Per run: where one processed order's CPU went, ours beside the floor's, component by component. */
function cpuSplitMarkdown(runs) {
  const withCpu = runs.filter((r) => r.cpu);
  if (!withCpu.length) return [];
  const us = (c, n) => c?.cpuMicrosPerItem[n] ?? '-';
  return [
    '',
    'CPU per processed order, µs (load generator = wrk or autocannon, with the bench process; PostgreSQL = the bench database’s backends and the server’s background processes; RabbitMQ = the broker VM, shared):',
    '',
    '| connections | run | gateway | connector | PostgreSQL | RabbitMQ | load generator | total | machine busy % |',
    '|---|---|---|---|---|---|---|---|---|',
    ...withCpu.flatMap((r) => [
      `| ${r.connections} | ours | ${us(r.cpu, 'gateway')} | ${us(r.cpu, 'website-connector')} | ${us(r.cpu, 'postgres')} | ${us(r.cpu, 'rabbitmq')} | ${us(r.cpu, 'loadGenerator')} | ${us(r.cpu, 'total')} | ${r.cpu.machineBusyPercent} |`,
      ...(r.floor?.cpu
        ? [
            `| ${r.connections} | floor | ${us(r.floor.cpu, 'gateway')} | ${us(r.floor.cpu, 'consumer')} | ${us(r.floor.cpu, 'postgres')} | ${us(r.floor.cpu, 'rabbitmq')} | ${us(r.floor.cpu, 'loadGenerator')} | ${us(r.floor.cpu, 'total')} | ${r.floor.cpu.machineBusyPercent} |`,
          ]
        : []),
    ]),
  ];
}

function markdown(report) {
  const { runs, authCompare: a, telephony: t, erp, accessLog, leads, history } = report;
  const lines = [
    `Benchmark ${report.date} — ${report.machine.cpus} cores (${report.machine.cpuModel}), Node ${report.machine.node}, ${report.mode} mode, ${report.totalSeconds} s in all (${Object.entries(
      report.phaseSeconds,
    )
      .map(([k, v]) => `${k} ${v} s`)
      .join(', ')}); load generator for orders: ${report.loadGenerator.orders}`,
  ];
  if (runs.length) {
    lines.push(
      '',
      `Pipeline (${DURATION} s per run; load generator for the floor and for us: ${report.loadGenerator.orders}):`,
      '',
      '| connections | accepted/s | ack p50 ms | ack p99 ms | processed/s (during load) | processed/s (end to end) | floor processed/s | ratio to floor | lag p50 ms | lag p99 ms | gateway CPU % / peak RSS MB | connector CPU % / peak RSS MB | generator CPU µs / request (floor / us) | errors | acknowledged / lost / duplicated |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...runs.map(
        (r) =>
          `| ${r.connections} | ${r.acceptedPerSecond} | ${r.ackLatencyMs.p50} | ${r.ackLatencyMs.p99} | ${r.processedPerSecondDuringLoad} | ${r.processedPerSecondEndToEnd} | ${r.floor?.processedPerSecondEndToEnd ?? '-'} | ${r.floor ? (r.processedPerSecondEndToEnd / r.floor.processedPerSecondEndToEnd).toFixed(2) : '-'} | ${r.lagMs.p50} | ${r.lagMs.p99} | ${r.processes.gateway.cpuPercent} / ${r.processes.gateway.peakRssMB} | ${r.processes['website-connector']?.cpuPercent ?? '-'} / ${r.processes['website-connector']?.peakRssMB ?? '-'} | ${r.floor?.loadGenerator.cpuMicrosPerRequest ?? '-'} / ${r.loadGenerator.cpuMicrosPerRequest ?? '-'} | ${r.errors.non2xx + r.errors.errors + r.errors.timeouts} | ${accountingCell(r.accounting)} |`,
      ),
      ...cpuSplitMarkdown(runs),
    );
  }
  if (t) lines.push(...telephonyMarkdown(t));
  if (leads) lines.push(...leadsMarkdown(leads));
  if (erp) lines.push(...erpMarkdown(erp));
  if (history) lines.push(...historyMarkdown(history));
  if (a) {
    const row = (label, s) =>
      `| ${label} | ${s.acceptedPerSecond} | ${s.ackLatencyMs.p50} | ${s.ackLatencyMs.p99} | ${s.gatewayCpuPercent} | ${s.gatewayCpuMsPer1000} | ${s.errors} |`;
    lines.push(
      '',
      `Auth cost (gateway only, ingest-only, ${a.connections} connections, ${a.durationSeconds} s × ${a.rounds} round(s) per mode, alternating):`,
      '',
      '| auth | accepted/s | ack p50 ms | ack p99 ms | gateway CPU % | gateway CPU ms / 1000 accepted | errors |',
      '|---|---|---|---|---|---|---|',
      row('issued credential (sb-bearer, HMAC-SHA256 + directory)', a.auth),
      row('static key baseline (sb-static, test only)', a.static),
      '',
      `Auth cost = 1 − auth/static accepted/s = **${pct(a.authCost)}** (limit ${pct(a.limit)}: ${a.pass ? 'PASS' : 'FAIL'}; per round: ${a.authCostPerRound.map(pct).join(', ')}); gateway CPU per accepted request ${a.cpuCostPerRequest >= 0 ? '+' : ''}${pct(a.cpuCostPerRequest)}.`,
    );
  }
  if (accessLog) lines.push(...accessLogMarkdown(accessLog));
  return lines.join('\n');
}

async function main() {
  const t0 = Date.now();
  const stack = await ensureStack({ log });
  const ns = `bench${runId}`;
  const databaseUrl = await createDatabase(stack.databaseUrl, `sb_${ns}`);
  const secrets = {
    SWITCHBOARD_PEPPER: randomBytes(32).toString('base64'),
    SWITCHBOARD_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  };
  const appEnv = {
    ...secrets,
    DATABASE_URL: databaseUrl,
    AMQP_URL: stack.amqpUrl,
    LOG_LEVEL: 'warn',
    BENCH_STATIC_PEER: undefined,
  };
  let runs = [];
  let authCompare = null;
  let telephony = null;
  let leads = null;
  let erp = null;
  let history = null;
  const accessLog = { compare: null, search: null };
  let outbound = null;
  // Seconds per phase (start-up, warm-up and drain included): what the full run's 15-minute budget is made of.
  const phaseSeconds = {};
  const timed = async (name, fn) => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      phaseSeconds[name] = Math.round((Date.now() - started) / 1000);
      log(`phase ${name}: ${phaseSeconds[name]} s`);
    }
  };
  try {
    // Also migrates the database (the CLI does before any peer command).
    const token =
      PIPELINE || AUTH_COMPARE || ACCESS_LOG_COMPARE
        ? await timed('setup', () => createBenchPeer({ ...secrets, DATABASE_URL: databaseUrl }))
        : null;
    if (PIPELINE)
      runs = await timed('pipeline', () => runPipeline({ stack, ns, databaseUrl, appEnv, token }));
    if (TELEPHONY)
      telephony = await timed('telephony', () => runTelephony({ ns, databaseUrl, appEnv, secrets }));
    if (LEADS) leads = await timed('leads', () => runLeads({ ns, databaseUrl, appEnv, secrets }));
    if (ERP)
      erp = await timed('erp', () =>
        runErpCatalog({
          offers: ERP_OFFERS,
          ns,
          databaseUrl,
          appEnv,
          secrets,
          startApp,
          createPeer: createBenchPeer,
          freePort,
          procStats,
          log,
          logDir: join(ROOT, '.data', 'bench-logs'),
        }),
      );
    if (HISTORY) history = await timed('history', () => runHistory({ stack, ns, appEnv, secrets }));
    if (AUTH_COMPARE) authCompare = await timed('auth', () => runAuthCompare({ stack, ns, appEnv, token }));
    if (ACCESS_LOG_COMPARE)
      accessLog.compare = await timed('accessLogCompare', () =>
        runAccessLogCompare({ stack, ns, databaseUrl, appEnv, token }),
      );
    if (OUTBOUND) {
      outbound = await timed('outbound', () =>
        runOutbound({
          databaseUrl,
          appEnv,
          startApp,
          stopProcess,
          procStats,
          cli,
          count: OUTBOUND_CHANGES,
          log,
        }),
      );
    }
    // Last: the fill loads the disk for minutes, and its checkpoint and WAL must not land in another phase.
    if (ACCESS_LOG_SEARCH)
      accessLog.search = await timed('accessLogSearch', () => runAccessLogSearch({ stack, ns, appEnv }));
  } finally {
    // A failed cleanup (e.g. the broker went away) must not hide why the run failed.
    await cleanup(
      stack,
      [ns, `${ns}x`, `${ns}t`, `${ns}l`, `${ns}s`, `${ns}w`, `${ns}e`, `${ns}h`],
      ns,
    ).catch((err) => log(`cleanup failed: ${err.message}`));
    await stack.stop();
  }

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    mode: QUICK ? 'quick' : 'full',
    // Orders (pipeline, floor, auth and access-log legs; warm-ups by request count always autocannon) and the rest.
    loadGenerator: {
      orders: generatorVersion(GENERATOR),
      telephony: generatorVersion(GENERATOR),
      leads: 'autocannon',
      erp: 'fetch (erp-catalog.mjs)',
    },
    totalSeconds: Math.round((Date.now() - t0) / 1000),
    phaseSeconds,
    runs,
    telephony,
    leads,
    erp,
    history,
    authCompare,
    accessLog,
    outbound,
  };
  if (!QUICK && !ONLY && report.totalSeconds > FULL_RUN_BUDGET_SECONDS)
    log(
      `the run took ${report.totalSeconds} s, over the ${FULL_RUN_BUDGET_SECONDS} s budget: see phaseSeconds`,
    );
  writeFileSync(join(ROOT, 'bench-report.json'), JSON.stringify(report, null, 2));
  const md = markdown(report) + outboundMarkdown(outbound);
  writeFileSync(join(ROOT, 'bench-report.md'), md + '\n');
  console.log(md);
  // Throughput of a run that lost or duplicated acknowledged data is no result: the run fails.
  const accounted = [
    ...runs.flatMap((r) => [r.accounting, r.floor?.accounting]),
    telephony?.accounting,
    leads?.endToEnd.check,
    leads?.connectorAlone.check,
    history?.empty.accounting,
    history?.window.accounting,
    history?.full.accounting,
  ].filter((a) => a && a.lost !== undefined);
  const broken = accounted.filter((a) => a.lost > 0 || a.duplicated > 0 || a.onePerPerson === false);
  if (broken.length) {
    console.error(`bench: acknowledged data lost or duplicated: ${JSON.stringify(broken)}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
