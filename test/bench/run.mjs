// npm run bench [-- --quick] [--duration 60] [--connections 50,100] [--profile] [--no-floor] [--ingest-only]
//                [--auth-compare | --no-auth-compare] [--auth-duration S] [--auth-rounds N]
// Drives authenticated website-order traffic through the real gateway and website connector on real
// PostgreSQL + RabbitMQ, and reports: accepted/s, ack latency p50/p90/p97.5/p99, end-to-end processed/s, lag
// (gateway receipt -> CRM transaction) p50/p99, CPU and peak RSS per app, errors, the floor (floor.mjs) and
// the auth cost: an ingest-only gateway with issued-credential auth against the same gateway accepting a
// static key (sb-static, test-only). Writes bench-report.json/.md. `--auth-compare` runs only the auth cost.
import autocannon from 'autocannon';
import amqp from 'amqplib';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, createWriteStream } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import pg from 'pg';
import { ensureStack, createDatabase } from '../../config/stack/stack.mjs';

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
const PIPELINE = !AUTH_ONLY;
const AUTH_COMPARE = AUTH_ONLY || !args.includes('--no-auth-compare');
const AUTH_CONNECTIONS = 100;
// Several shorter rounds, alternating which mode goes first (auth, static, static, auth, ...), rather than one
// long leg each, so drift on a shared machine cancels out.
const AUTH_DURATION = Number(flag('auth-duration', QUICK ? 5 : Math.ceil(DURATION / 2)));
const AUTH_ROUNDS = Number(flag('auth-rounds', QUICK ? 2 : 3));
/** The budget: authentication may cost at most this share of the static-key throughput. */
const AUTH_COST_LIMIT = 0.1;
const BENCH_PEER = 'bench-shop';
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
    env.GATEWAY_PORT ?? env.WEBSITE_CONNECTOR_PORT,
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
 * The bench peer, issued like any real one (`cli peers create`): returns its bearer token. The rate limit is
 * the highest the contract allows, far above what one machine can send, so the quota never binds.
 */
function createBenchPeer(env) {
  const argv = [
    join(ROOT, 'dist/apps/console/src/cli.js'),
    'peers',
    'create',
    '--id',
    BENCH_PEER,
    '--name',
    'Bench',
    '--kind',
    'website',
    '--scopes',
    'website.*',
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

const BROKER_CONFIG = JSON.parse(readFileSync(join(ROOT, 'config/default.json'), 'utf8')).amqp;
const connectorQueues = (ns, c = 'website-connector') => [
  `${ns}.${c}`,
  `${ns}.${c}.dlq`,
  ...BROKER_CONFIG.retryDelaysMs.map((d) => `${ns}.${c}.retry.${d}ms`),
];

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

function markdown(report) {
  const { runs, authCompare: a } = report;
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
  try {
    // Also migrates the database (the CLI does before any peer command).
    const token = await createBenchPeer({ ...secrets, DATABASE_URL: databaseUrl });
    if (PIPELINE) runs = await runPipeline({ stack, ns, databaseUrl, appEnv, token });
    if (AUTH_COMPARE) authCompare = await runAuthCompare({ stack, ns, appEnv, token });
  } finally {
    // A failed cleanup (e.g. the broker went away) must not hide why the run failed.
    await cleanup(stack, [ns, `${ns}x`], ns).catch((err) => log(`cleanup failed: ${err.message}`));
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
