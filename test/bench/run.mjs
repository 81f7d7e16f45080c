// npm run bench [-- --quick] [--duration 60] [--connections 50,100] [--profile] [--no-floor] [--ingest-only]
// Drives authenticated website-order traffic through the real gateway and website connector on real
// PostgreSQL + RabbitMQ, and reports: accepted/s, ack latency p50/p90/p97.5/p99, end-to-end processed/s, lag
// (gateway receipt -> CRM transaction) p50/p99, CPU and peak RSS per app, errors. Writes bench-report.json/.md.
import autocannon from 'autocannon';
import amqp from 'amqplib';
import { spawn } from 'node:child_process';
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
const CONNECTIONS = flag('connections', '50,100').split(',').map(Number);
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

async function startApp(name, env) {
  return spawnProcess(
    name,
    [join(ROOT, 'dist/apps', name, 'src/main.js')],
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
    gateway.kill('SIGTERM');
    consumer.kill('SIGTERM');
    await sleep(300);
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

/** Removes the run's queues, exchange and database so repeated runs do not burden the broker. */
async function cleanup(stack, ns) {
  await sleep(500); // let the apps close their connections
  const conn = await amqp.connect(stack.amqpUrl);
  const ch = await conn.createChannel();
  const config = JSON.parse(readFileSync(join(ROOT, 'config/default.json'), 'utf8'));
  const c = 'website-connector';
  for (const q of [
    `${ns}.${c}`,
    `${ns}.${c}.dlq`,
    ...config.amqp.retryDelaysMs.map((d) => `${ns}.${c}.retry.${d}ms`),
  ]) {
    await ch.deleteQueue(q).catch(() => undefined);
  }
  await ch.deleteExchange(`${ns}.events`).catch(() => undefined);
  await ch.deleteQueue(`${ns}.floor`).catch(() => undefined);
  await conn.close();
  const admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS sb_${ns} WITH (FORCE)`);
  await admin.end();
}

// Without a connector nothing migrates the database: there is nothing processed to count.
const count = async (db) =>
  args.includes('--ingest-only')
    ? 0
    : Number((await db.query('SELECT count(*) n FROM processed_events')).rows[0].n);

async function main() {
  const stack = await ensureStack({ log });
  const ns = `bench${runId}`;
  const databaseUrl = await createDatabase(stack.databaseUrl, `sb_${ns}`);
  const key = randomBytes(24).toString('hex');
  const [gwPort, wcPort] = [await freePort(), await freePort()];
  const env = {
    DATABASE_URL: databaseUrl,
    AMQP_URL: stack.amqpUrl,
    AMQP_NAMESPACE: ns,
    PEER_KEYS: `bench-shop:${key}`,
    LOG_LEVEL: 'warn',
    GATEWAY_PORT: String(gwPort),
    WEBSITE_CONNECTOR_PORT: String(wcPort),
  };
  const gateway = await startApp('gateway', { ...env, WEBSITE_CONNECTOR_PORT: undefined });
  // --ingest-only: no connector, to separate the gateway's cost from the CRM writes'.
  const INGEST_ONLY = args.includes('--ingest-only');
  const connector = INGEST_ONLY
    ? null
    : await startApp('website-connector', { ...env, GATEWAY_PORT: undefined });
  const procs = connector ? { gateway, 'website-connector': connector } : { gateway };
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();

  const runs = [];
  try {
    // Warm-up: JIT, connection pools, queue leader.
    await autocannon({
      url: `http://127.0.0.1:${gwPort}/v1/website/orders`,
      connections: 10,
      amount: 500,
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: nextOrder() }) }],
    });
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
      const result = await autocannon({
        url: `http://127.0.0.1:${gwPort}/v1/website/orders`,
        connections,
        duration: DURATION,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, body: nextOrder() }) }],
      });
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
    for (const p of Object.values(procs)) p.kill('SIGTERM');
    await db.end();
    await cleanup(stack, ns);
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
    runs,
  };
  writeFileSync(join(ROOT, 'bench-report.json'), JSON.stringify(report, null, 2));
  const md = [
    `Benchmark ${report.date} — ${report.machine.cpus} cores (${report.machine.cpuModel}), Node ${report.machine.node}, ${DURATION} s per run`,
    '',
    '| connections | accepted/s | ack p50 ms | ack p99 ms | processed/s (during load) | processed/s (end to end) | floor processed/s | ratio to floor | lag p50 ms | lag p99 ms | gateway CPU % / peak RSS MB | connector CPU % / peak RSS MB | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.connections} | ${r.acceptedPerSecond} | ${r.ackLatencyMs.p50} | ${r.ackLatencyMs.p99} | ${r.processedPerSecondDuringLoad} | ${r.processedPerSecondEndToEnd} | ${r.floor?.processedPerSecondEndToEnd ?? '-'} | ${r.floor ? (r.processedPerSecondEndToEnd / r.floor.processedPerSecondEndToEnd).toFixed(2) : '-'} | ${r.lagMs.p50} | ${r.lagMs.p99} | ${r.processes.gateway.cpuPercent} / ${r.processes.gateway.peakRssMB} | ${r.processes['website-connector']?.cpuPercent ?? '-'} / ${r.processes['website-connector']?.peakRssMB ?? '-'} | ${r.errors.non2xx + r.errors.errors + r.errors.timeouts} |`,
    ),
  ].join('\n');
  writeFileSync(join(ROOT, 'bench-report.md'), md + '\n');
  console.log(md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
