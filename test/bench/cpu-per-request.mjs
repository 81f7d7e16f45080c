// node test/bench/cpu-per-request.mjs [--requests 20000] [--rounds 3] [--connections 50] [--profile] [--keep-db]
// The gateway's CPU per accepted order, which a shared machine's load barely moves (unlike requests/s): an
// ingest-only gateway (no connector) on its own database and AMQP namespace of an ALREADY RUNNING stack
// (DATABASE_URL and AMQP_URL must be set; nothing is started or stopped but the gateway), a warm-up, then
// --rounds × a fixed number of authenticated orders from autocannon; per round, the gateway's user+system CPU
// (from /proc) divided by the 202s, and its peak RSS. --profile writes a V8 CPU profile of the gateway to
// .data/bench-profiles/cpu-per-request.cpuprofile. --node-flags "--max-semi-space-size=4" starts the gateway with
// those V8 flags instead of the apps' own (config/scripts/v8-flags.mjs).
import autocannon from 'autocannon';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnLogged, stopProcess, waitHealthy } from '../support/processes.mjs';
import { benchEnvironment, cpuSeconds, flags, orderBodies, ROOT, rssOf } from './standalone.mjs';

const { args, flag } = flags();
const REQUESTS = Number(flag('requests', 20000));
const ROUNDS = Number(flag('rounds', 3));
const CONNECTIONS = Number(flag('connections', 50));
const { runId, env, token, cleanup } = await benchEnvironment('cpu', { keepDb: args.includes('--keep-db') });
const nextOrder = orderBodies(`C-${runId}`);
const procStats = (pid) => ({ cpuSeconds: cpuSeconds(pid), rss: rssOf(pid) });
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
  await cleanup();
}
