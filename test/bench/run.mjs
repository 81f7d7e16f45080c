// npm run bench [-- --quick] [--duration 60] [--connections 50,100] [--profile] [--no-floor] [--ingest-only]
//                [--auth-compare | --no-auth-compare] [--auth-duration S] [--auth-rounds N]
//                [--telephony-only | --no-telephony] [--telephony-drain S] [--calls-in-progress N]
//                [--repeat-callers SHARE] [--keep-db]
// Drives authenticated website-order traffic through the real gateway and website connector on real
// PostgreSQL + RabbitMQ, and reports: accepted/s, ack latency p50/p90/p97.5/p99, end-to-end processed/s, lag
// (gateway receipt -> CRM transaction) p50/p99, CPU and peak RSS per app, errors, the floor (floor.mjs) and
// the auth cost: an ingest-only gateway with issued-credential auth against the same gateway accepting a
// static key (sb-static, test-only). Writes bench-report.json/.md. `--auth-compare` runs only the auth cost.
// Telephony (after the pipeline; `--telephony-only` alone, `--no-telephony` skips it): gateway + telephony
// connector under a call-event mix (test/bench/call-mix.mjs, ~4 events per call) at TELEPHONY_CONNECTIONS:
// accepted/s, ack latency, events merged into call_events per second end to end, lag, calls completed.
import autocannon from 'autocannon';
import amqp from 'amqplib';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, createWriteStream, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import pg from 'pg';
import { ensureStack, createDatabase } from '../../config/stack/stack.mjs';
import { createCallMix, EXTENSIONS, KNOWN_CONTACTS, POOL } from './call-mix.mjs';

const ROOT = join(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const QUICK = args.includes('--quick');
const DURATION = Number(flag('duration', QUICK ? 10 : 60));
// Quick mode: one load level, so the whole run (floor, pipeline, auth cost) stays around a minute and a half.
const CONNECTIONS = flag('connections', QUICK ? '100' : '50,100')
  .split(',')
  .map(Number);
const AUTH_ONLY = args.includes('--auth-compare');
const TELEPHONY_ONLY = args.includes('--telephony-only');
const PIPELINE = !AUTH_ONLY && !TELEPHONY_ONLY;
const AUTH_COMPARE = AUTH_ONLY || (!TELEPHONY_ONLY && !args.includes('--no-auth-compare'));
const TELEPHONY = TELEPHONY_ONLY || (!AUTH_ONLY && !args.includes('--no-telephony'));
const TELEPHONY_CONNECTIONS = 100;
/** Issue 5: a call-event mix merged end to end at this rate or more. */
const TELEPHONY_TARGET = 2000;
// How long to wait after the load for the connector to merge the backlog; in quick mode short, so the phase
// stays within ~25 s (a backlog left then is reported, and the rate is what was merged in the time).
const TELEPHONY_DRAIN = Number(flag('telephony-drain', QUICK ? 8 : 120));
// The call mix's shape (call-mix.mjs): calls under way at once, and the share from the repeat-caller pool.
const CALL_MIX = {
  inProgress: Number(flag('calls-in-progress', 64)),
  repeatCallers: Number(flag('repeat-callers', 0.2)),
};
const AUTH_CONNECTIONS = 100;
// Several shorter rounds, alternating which mode goes first (auth, static, static, auth, ...), rather than one
// long leg each, so drift on a shared machine cancels out.
const AUTH_DURATION = Number(flag('auth-duration', QUICK ? 5 : Math.ceil(DURATION / 2)));
const AUTH_ROUNDS = Number(flag('auth-rounds', QUICK ? 2 : 3));
/** The issue's budget: authentication may cost at most this share of the static-key throughput. */
const AUTH_COST_LIMIT = 0.1;
const BENCH_PEER = 'bench-shop';
const TELEPHONY_PEER = 'bench-pbx';
const STATIC_PEER = 'bench-static';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[bench] ${m}\n`);

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

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
  return spawnProcess(
    name,
    [join(ROOT, 'dist/apps', app, 'src/main.js')],
    env,
    env.GATEWAY_PORT ?? env.WEBSITE_CONNECTOR_PORT ?? env.TELEPHONY_CONNECTOR_PORT,
  );
}

async function spawnProcess(name, argv, env, port) {
  const logDir = join(ROOT, '.data', 'bench-logs');
  mkdirSync(logDir, { recursive: true });
  const out = createWriteStream(join(logDir, `${name}.log`));
  // --profile: V8 CPU profiles of each process in .data/bench-profiles (open in Chrome DevTools).
  const profile = args.includes('--profile')
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${join(ROOT, '.data', 'bench-profiles')}`,
        `--cpu-prof-name=${name}.cpuprofile`,
      ]
    : [];
  const proc = spawn(process.execPath, [...profile, ...argv], {
    env: { ...process.env, ...env },
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.pipe(out);
  proc.stderr.pipe(out);
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${name} exited; see .data/bench-logs/${name}.log`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return proc;
    await sleep(200);
  }
  throw new Error(`${name} not healthy`);
}

/** SIGTERM, and wait until the process is gone (so the next phase does not share the CPU with it). */
async function stop(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
}

/**
 * A bench peer, issued like any real one (`cli peers create`): returns its bearer token. The rate limit is
 * the highest the contract allows, far above what one machine can send, so the quota never binds.
 */
function createBenchPeer(env, { id = BENCH_PEER, kind = 'website', scopes = 'website.*' } = {}) {
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

/** Load on POST /v1/website/orders with a bearer token: `duration` seconds or `amount` requests. */
function drive(port, token, opts) {
  return autocannon({
    url: `http://127.0.0.1:${port}/v1/website/orders`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: nextOrder() }) }],
    ...opts,
  });
}

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
    const startedAt = Date.now();
    const result = await autocannon({
      url: `http://127.0.0.1:${gwPort}/floor`,
      connections,
      duration: DURATION,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: nextOrder() }) }],
    });
    const loadEndedAt = Date.now();
    let done = await rows();
    while (done - before < result['2xx'] && Date.now() - loadEndedAt < 300_000) {
      await sleep(100);
      done = await rows();
    }
    const elapsed = (Date.now() - startedAt) / 1000;
    return {
      acceptedPerSecond: Math.round(result['2xx'] / ((loadEndedAt - startedAt) / 1000)),
      ackLatencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      processedPerSecondEndToEnd: Math.round((done - before) / elapsed),
      errors: result.non2xx + result.errors + result.timeouts,
    };
  } finally {
    await Promise.all([stop(gateway), stop(consumer)]);
  }
}

let seq = 0;
const runId = randomBytes(3).toString('hex');
// The same sample order the e2e suites use; only identity fields vary.
const SAMPLE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/website/order.sample.json'), 'utf8'));
function nextOrder() {
  seq += 1;
  const n = String(seq).padStart(7, '0');
  return JSON.stringify({
    ...SAMPLE,
    externalId: `B-${runId}-${n}`,
    customer: { name: 'Bench Customer', phone: `+7916${n}`, email: `c${n}@bench.example` },
  });
}

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
const count = async (db) =>
  INGEST_ONLY ? 0 : Number((await db.query('SELECT count(*) n FROM processed_events')).rows[0].n);

/** Gateway + website connector under load at each connection count, each preceded by its floor. */
async function runPipeline({ stack, ns, databaseUrl, appEnv, token }) {
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
    const warm = await drive(gwPort, token, { connections: 10, amount: 500 });
    if (warm['2xx'] < 500) throw new Error(`warm-up: only ${warm['2xx']} of 500 accepted (auth?)`);
    while (!INGEST_ONLY && (await count(db)) < 500) await sleep(100);

    for (const connections of CONNECTIONS) {
      log(`floor: ${connections} connections for ${DURATION} s`);
      const floor = args.includes('--no-floor')
        ? null
        : await runFloor({ connections, databaseUrl, amqpUrl: stack.amqpUrl, ns, db });
      if (floor) log(`floor: ${JSON.stringify(floor)}`);
      log(`${connections} connections for ${DURATION} s`);
      const before = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
      const peak = Object.fromEntries(Object.keys(procs).map((n) => [n, 0]));
      const sampler = setInterval(() => {
        for (const [n, p] of Object.entries(procs)) peak[n] = Math.max(peak[n], procStats(p.pid)?.rss ?? 0);
      }, 250);
      const processedAtStart = await count(db);
      const startedAt = Date.now();
      const result = await drive(gwPort, token, { connections, duration: DURATION });
      const loadEndedAt = Date.now();
      const processedAtLoadEnd = await count(db);
      const accepted = result['2xx'];
      // Drain: until everything accepted in this run is in the CRM.
      let processed = processedAtLoadEnd;
      while (!INGEST_ONLY && processed - processedAtStart < accepted && Date.now() - loadEndedAt < 300_000) {
        await sleep(100);
        processed = await count(db);
      }
      const drainedAt = Date.now();
      clearInterval(sampler);
      const after = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
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
        floor,
        processes: Object.fromEntries(
          Object.keys(procs).map((n) => [
            n,
            {
              cpuPercent: Math.round(((after[n].cpuSeconds - before[n].cpuSeconds) / elapsed) * 100),
              peakRssMB: Math.round(peak[n] / 1048576),
            },
          ]),
        ),
      });
      log(JSON.stringify(runs.at(-1)));
    }
  } finally {
    await Promise.all(Object.values(procs).map(stop));
    await db.end();
  }
  return runs;
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

/** The broker's Erlang VM(s): shared with anything else using the broker, so only indicative. */
function brokerPids() {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'beam.smp') pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
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
    const driveCalls = (opts) =>
      autocannon({
        url: `http://127.0.0.1:${gwPort}/v1/telephony/events`,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, body: mix.next() }) }],
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
    const baseId = Number((await db.query('SELECT coalesce(max(id), 0) m FROM call_events')).rows[0].m);

    log(`telephony: ${TELEPHONY_CONNECTIONS} connections for ${DURATION} s`);
    const pgBefore = new Map((await backendPids(db)).map((pid) => [pid, procStats(pid)?.cpuSeconds ?? 0]));
    const broker = brokerPids();
    const before = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, procStats(p.pid)]));
    const shared0 = { broker: cpuOf(broker), bench: process.cpuUsage(), machine: machineTicks() };
    const peak = Object.fromEntries(Object.keys(procs).map((n) => [n, 0]));
    const sampler = setInterval(() => {
      for (const [n, p] of Object.entries(procs)) peak[n] = Math.max(peak[n], procStats(p.pid)?.rss ?? 0);
    }, 250);

    const startedAt = Date.now();
    let firstAcceptedAt = null;
    const load = driveCalls({ connections: TELEPHONY_CONNECTIONS, duration: DURATION });
    const onResponse = (_client, status) => {
      if (status < 200 || status > 299) return;
      firstAcceptedAt = Date.now();
      load.off('response', onResponse);
    };
    load.on('response', onResponse);
    const result = await load;
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

    const endToEndSeconds = (drainedAt - (firstAcceptedAt ?? startedAt)) / 1000;
    const mergedPerSecond = INGEST_ONLY ? null : Math.round(done / endToEndSeconds);
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
      // After the load: the connector (and PostgreSQL) without the gateway and autocannon on the same cores.
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
      pass: mergedPerSecond !== null && mergedPerSecond >= TELEPHONY_TARGET,
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

const pct = (x) => `${(x * 100).toFixed(1)} %`;

const num = (x) => (x === null || x === undefined ? '-' : Number(x).toLocaleString('en-US'));

function telephonyMarkdown(t) {
  const proc = (n) =>
    t.processes[n] ? `${t.processes[n].cpuPercent} / ${t.processes[n].peakRssMB}` : '- / -';
  const c = t.calls;
  return [
    '',
    `Telephony (call-event mix, ${t.sent.eventsPerCall} events per call, ${t.connections} connections, ${t.durationSeconds} s; issue 5 target: ≥ ${num(t.target)} events/s merged end to end):`,
    '',
    '| accepted/s | ack p50 ms | ack p99 ms | merged/s (during load) | merged/s (end to end) | drained | lag p50 ms | lag p99 ms | calls / completed | gateway CPU % / peak RSS MB | connector CPU % / peak RSS MB | PostgreSQL CPU % (bench DB) | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${t.acceptedPerSecond} | ${t.ackLatencyMs.p50} | ${t.ackLatencyMs.p99} | ${t.mergedPerSecondDuringLoad} | ${t.mergedPerSecondEndToEnd ?? '-'} | ${t.drained ? `yes, ${t.drainSeconds} s` : `no (${num(t.backlog)} left after ${t.drainSeconds} s)`} | ${t.lagMs.p50} | ${t.lagMs.p99} | ${num(c.logs)} / ${num(c.completed)} | ${proc('gateway')} | ${proc('telephony-connector')} | ${t.cpuPercent.postgresBenchDbBackends} | ${t.errors.non2xx + t.errors.errors + t.errors.timeouts} |`,
    '',
    `Merged end to end: **${num(t.mergedPerSecondEndToEnd)} events/s** (${num(t.merged)} call_events rows in ${t.endToEndSeconds} s from the first 202${t.mergedPerSecondDraining ? `; ${num(t.mergedPerSecondDraining)}/s while draining, the load stopped` : ''}) against ${num(t.target)}: ${t.pass ? 'PASS' : 'SHORT'}${t.mergedPerSecondEndToEnd ? ` (${((t.mergedPerSecondEndToEnd / t.target) * 100).toFixed(0)} % of target)` : ''}. ` +
      `Calls: ${num(c.endedMerged)} with their end merged, ${num(c.completed)} completed; ${num(c.newLead)} new leads, ${num(c.linkedToOpenLead)} linked to an open lead, ${num(c.linkedToContact)} to a contact; call-back tasks ${num(t.callbackTasks.open)} open, ${num(t.callbackTasks.closed)} closed. ` +
      `CPU over the phase (100 % = a core, ${t.cpuPercent.machineMax} % in all): machine ${t.cpuPercent.machineBusy} %, PostgreSQL (bench DB) ${t.cpuPercent.postgresBenchDbBackends} %, RabbitMQ (shared) ${t.cpuPercent.rabbitmqBroker} %, load generator ${t.cpuPercent.benchDriver} %.`,
  ];
}

function markdown(report) {
  const { runs, authCompare: a, telephony: t } = report;
  const lines = [
    `Benchmark ${report.date} — ${report.machine.cpus} cores (${report.machine.cpuModel}), Node ${report.machine.node}, ${report.mode} mode, ${report.totalSeconds} s in all`,
  ];
  if (runs.length) {
    lines.push(
      '',
      `Pipeline (${DURATION} s per run):`,
      '',
      '| connections | accepted/s | ack p50 ms | ack p99 ms | processed/s (during load) | processed/s (end to end) | floor processed/s | ratio to floor | lag p50 ms | lag p99 ms | gateway CPU % / peak RSS MB | connector CPU % / peak RSS MB | errors |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...runs.map(
        (r) =>
          `| ${r.connections} | ${r.acceptedPerSecond} | ${r.ackLatencyMs.p50} | ${r.ackLatencyMs.p99} | ${r.processedPerSecondDuringLoad} | ${r.processedPerSecondEndToEnd} | ${r.floor?.processedPerSecondEndToEnd ?? '-'} | ${r.floor ? (r.processedPerSecondEndToEnd / r.floor.processedPerSecondEndToEnd).toFixed(2) : '-'} | ${r.lagMs.p50} | ${r.lagMs.p99} | ${r.processes.gateway.cpuPercent} / ${r.processes.gateway.peakRssMB} | ${r.processes['website-connector']?.cpuPercent ?? '-'} / ${r.processes['website-connector']?.peakRssMB ?? '-'} | ${r.errors.non2xx + r.errors.errors + r.errors.timeouts} |`,
      ),
    );
  }
  if (t) lines.push(...telephonyMarkdown(t));
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
  try {
    // Also migrates the database (the CLI does before any peer command).
    const token =
      PIPELINE || AUTH_COMPARE ? await createBenchPeer({ ...secrets, DATABASE_URL: databaseUrl }) : null;
    if (PIPELINE) runs = await runPipeline({ stack, ns, databaseUrl, appEnv, token });
    if (TELEPHONY) telephony = await runTelephony({ ns, databaseUrl, appEnv, secrets });
    if (AUTH_COMPARE) authCompare = await runAuthCompare({ stack, ns, appEnv, token });
  } finally {
    // A failed cleanup (e.g. the broker went away) must not hide why the run failed.
    await cleanup(stack, [ns, `${ns}x`, `${ns}t`], ns).catch((err) => log(`cleanup failed: ${err.message}`));
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
    totalSeconds: Math.round((Date.now() - t0) / 1000),
    runs,
    telephony,
    authCompare,
  };
  writeFileSync(join(ROOT, 'bench-report.json'), JSON.stringify(report, null, 2));
  const md = markdown(report);
  writeFileSync(join(ROOT, 'bench-report.md'), md + '\n');
  console.log(md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
