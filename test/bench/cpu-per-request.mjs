// node test/bench/cpu-per-request.mjs [--requests 20000] [--rounds 3] [--connections 50] [--profile] [--keep-db]
// The gateway's CPU per accepted order, which a shared machine's load barely moves (unlike requests/s): an
// ingest-only gateway (no connector) on its own database and AMQP namespace of an ALREADY RUNNING stack
// (DATABASE_URL and AMQP_URL must be set; nothing is started or stopped but the gateway), a warm-up, then
// --rounds × a fixed number of authenticated orders from autocannon; per round, the gateway's user+system CPU
// (from /proc) divided by the 202s, and its peak RSS. --profile writes a V8 CPU profile of the gateway to
// .data/bench-profiles/cpu-per-request.cpuprofile. --node-flags "--max-semi-space-size=4" starts the gateway with
// those V8 flags instead of the apps' own (config/scripts/v8-flags.mjs).
import autocannon from 'autocannon';
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase } from '../../config/stack/stack.mjs';
import { freePort, spawnLogged, stopProcess, waitHealthy } from '../support/processes.mjs';

const ROOT = join(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const REQUESTS = Number(flag('requests', 20000));
const ROUNDS = Number(flag('rounds', 3));
const CONNECTIONS = Number(flag('connections', 50));
const { DATABASE_URL, AMQP_URL } = process.env;
if (!DATABASE_URL || !AMQP_URL) throw new Error('set DATABASE_URL and AMQP_URL to a running stack');

const runId = randomBytes(3).toString('hex');
const ns = `cpu${runId}`;
const SAMPLE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/website/order.sample.json'), 'utf8'));
let seq = 0;
const nextOrder = () => {
  const n = String(++seq).padStart(7, '0');
  return JSON.stringify({
    ...SAMPLE,
    externalId: `C-${runId}-${n}`,
    customer: { name: 'Bench Customer', phone: `+7916${n}`, email: `c${n}@bench.example` },
  });
};

function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  return { cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100, rss };
}

const run = (argv, env) =>
  new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      argv,
      { env: { ...process.env, ...env }, cwd: ROOT, timeout: 120_000 },
      (e, out, err) => (e ? reject(new Error(err || e.message)) : resolve(out)),
    ),
  );

const databaseUrl = await createDatabase(DATABASE_URL, `sb_${ns}`);
const env = {
  SWITCHBOARD_PEPPER: randomBytes(32).toString('base64'),
  SWITCHBOARD_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  DATABASE_URL: databaseUrl,
  AMQP_URL,
  AMQP_NAMESPACE: ns,
  LOG_LEVEL: 'warn',
};
const cli = join(ROOT, 'dist/apps/console/src/cli.js');
const created = JSON.parse(
  await run(
    [
      cli,
      'peers',
      'create',
      '--id',
      'cpu-shop',
      '--name',
      'CPU',
      '--kind',
      'website',
      '--scopes',
      'website.*',
      '--rate-limit',
      '10000000',
      '--json',
    ],
    env,
  ),
);
const token = created.credential.token;
const port = await freePort();
const metricsPort = await freePort();
const logDir = join(ROOT, '.data', 'bench-logs');
mkdirSync(logDir, { recursive: true });
const profile = args.includes('--profile')
  ? [
      '--cpu-prof',
      `--cpu-prof-dir=${join(ROOT, '.data', 'bench-profiles')}`,
      '--cpu-prof-name=cpu-per-request.cpuprofile',
    ]
  : [];
const nodeFlags = flag('node-flags', '').split(' ').filter(Boolean);
const gateway = spawnLogged([...profile, ...nodeFlags, join(ROOT, 'dist/apps/gateway/src/main.js')], {
  env: {
    ...process.env,
    ...env,
    GATEWAY_PORT: String(port),
    GATEWAY_METRICS_PORT: String(metricsPort),
    WEBSITE_CONNECTOR_PORT: undefined,
  },
  cwd: ROOT,
  logFile: join(logDir, 'cpu-per-request-gateway.log'),
});
const drive = (amount) =>
  autocannon({
    url: `http://127.0.0.1:${port}/v1/website/orders`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: nextOrder() }) }],
    connections: CONNECTIONS,
    amount,
  });
const rounds = [];
try {
  await waitHealthy(gateway, `http://127.0.0.1:${port}`, {
    name: 'gateway',
    logFile: join(logDir, 'cpu-per-request-gateway.log'),
  });
  const warm = await drive(Math.min(5000, REQUESTS));
  if (warm['2xx'] === 0) throw new Error(`warm-up: no 202 (${warm.non2xx} non-2xx)`);
  let peak = procStats(gateway.pid).rss;
  for (let r = 0; r < ROUNDS; r++) {
    const before = procStats(gateway.pid);
    const sampler = setInterval(() => (peak = Math.max(peak, procStats(gateway.pid).rss)), 200);
    const t0 = Date.now();
    const res = await drive(REQUESTS);
    clearInterval(sampler);
    const cpu = procStats(gateway.pid).cpuSeconds - before.cpuSeconds;
    rounds.push({
      round: r + 1,
      accepted: res['2xx'],
      errors: res.non2xx + res.errors + res.timeouts,
      perSecond: Math.round(res['2xx'] / ((Date.now() - t0) / 1000)),
      p99ms: res.latency.p99,
      cpuMicrosPerRequest: Math.round((cpu * 1e6) / res['2xx']),
    });
    console.log(JSON.stringify(rounds.at(-1)));
  }
  const us = rounds.map((r) => r.cpuMicrosPerRequest).sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      medianCpuMicrosPerRequest: us[Math.floor(us.length / 2)],
      min: us[0],
      peakRssMB: Math.round(peak / 2 ** 20),
    }),
  );
} finally {
  await stopProcess(gateway);
  const conn = await amqp.connect(AMQP_URL).catch(() => null);
  if (conn) {
    const ch = await conn.createChannel();
    for (const q of [`${ns}.website-connector`, `${ns}.telephony-connector`])
      await ch.deleteQueue(q).catch(() => undefined);
    await conn.close().catch(() => undefined);
  }
  if (!args.includes('--keep-db')) {
    const admin = new pg.Client({ connectionString: DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "sb_${ns}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}
