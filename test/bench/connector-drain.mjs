// node test/bench/connector-drain.mjs [--orders 20000] [--rounds 2] [--prefetch N] [--profile] [--keep-db]
// The consumer side of an order alone, per order: the website connector, PostgreSQL and the broker draining a
// backlog, with no gateway and no load generator on the cores meanwhile — the steadier figure for changes on the
// consumer side (a shared machine moves end-to-end rates and even the gateway's CPU per order by ±20 %).
// On an ALREADY RUNNING stack (DATABASE_URL and AMQP_URL must be set; its own database and AMQP namespace):
// per round, an ingest-only gateway posts --orders orders (autocannon, as cpu-per-request.mjs) into the
// connector's queue and stops; then the connector starts and drains them. Counted from its first inbox marker to
// its last (so start-up is not in the figure): orders/s, and CPU µs per order of the connector, of PostgreSQL (the
// database's backends and the server's background processes) and of the broker's Erlang VM (shared: indicative).
// --profile writes a V8 CPU profile of the connector to .data/bench-profiles/connector-drain.cpuprofile.
import autocannon from 'autocannon';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, spawnLogged, stopProcess, waitHealthy } from '../support/processes.mjs';
import { benchEnvironment, cpuSeconds, flags, orderBodies, ROOT } from './standalone.mjs';

const { args, flag } = flags();
const ORDERS = Number(flag('orders', 20000));
const ROUNDS = Number(flag('rounds', 2));
const { runId, databaseUrl, env, token, cleanup } = await benchEnvironment('drain', {
  keepDb: args.includes('--keep-db'),
  env: flag('prefetch') ? { WEBSITE_CONNECTOR_PREFETCH: flag('prefetch') } : {},
});
const nextOrder = orderBodies(`D-${runId}`);

const brokerPids = () =>
  readdirSync('/proc').filter((d) => {
    try {
      return /^\d+$/.test(d) && readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'beam.smp';
    } catch {
      return false;
    }
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const logDir = join(ROOT, '.data', 'bench-logs');
mkdirSync(logDir, { recursive: true });
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
const markers = async () =>
  Number(
    (await db.query(`SELECT count(*) n FROM processed_events WHERE consumer = 'website-connector'`)).rows[0]
      .n,
  );
const postgresPids = async () =>
  (
    await db.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL')
  ).rows.map((r) => r.pid);

async function fill(amount) {
  const port = await freePort();
  const logFile = join(logDir, 'connector-drain-gateway.log');
  const gateway = spawnLogged([join(ROOT, 'dist/apps/gateway/src/main.js')], {
    env: {
      ...process.env,
      ...env,
      GATEWAY_PORT: String(port),
      GATEWAY_METRICS_PORT: String(await freePort()),
    },
    cwd: ROOT,
    logFile,
  });
  try {
    await waitHealthy(gateway, `http://127.0.0.1:${port}`, { name: 'gateway', logFile });
    const res = await autocannon({
      url: `http://127.0.0.1:${port}/v1/website/orders`,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: nextOrder() }) }],
      connections: 50,
      amount,
    });
    return res['2xx'];
  } finally {
    await stopProcess(gateway);
  }
}

async function drain(expected, profile) {
  const port = await freePort();
  const logFile = join(logDir, 'connector-drain-website-connector.log');
  const prof = profile
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${join(ROOT, '.data', 'bench-profiles')}`,
        '--cpu-prof-name=connector-drain.cpuprofile',
      ]
    : [];
  const base = await markers();
  const connector = spawnLogged([...prof, join(ROOT, 'dist/apps/website-connector/src/main.js')], {
    env: { ...process.env, ...env, WEBSITE_CONNECTOR_PORT: String(port) },
    cwd: ROOT,
    logFile,
  });
  try {
    // From its first marker: start-up (module loading, Nest, pools) is not the consumer's work per order.
    let n = base;
    while (n === base) {
      if (connector.exitCode !== null) throw new Error(`connector exited; see ${logFile}`);
      await sleep(20);
      n = await markers();
    }
    const first = { n, at: Date.now(), connector: cpuSeconds(connector.pid) };
    first.postgres = new Map((await postgresPids()).map((pid) => [pid, cpuSeconds(pid)]));
    first.broker = new Map(brokerPids().map((pid) => [pid, cpuSeconds(pid)]));
    const until = Date.now() + 300_000;
    while (n < base + expected && Date.now() < until) {
      await sleep(50);
      n = await markers();
    }
    const since = (before, pids) => pids.reduce((a, pid) => a + cpuSeconds(pid) - (before.get(pid) ?? 0), 0);
    const orders = n - first.n;
    const seconds = {
      connector: cpuSeconds(connector.pid) - first.connector,
      postgres: since(first.postgres, await postgresPids()),
      rabbitmq: since(first.broker, brokerPids()),
    };
    const us = Object.fromEntries(
      Object.entries(seconds).map(([k, s]) => [k, Math.round((s * 1e6) / orders)]),
    );
    us.total = us.connector + us.postgres + us.rabbitmq;
    return {
      drained: n - base,
      expected,
      ordersPerSecond: Math.round(orders / ((Date.now() - first.at) / 1000)),
      cpuMicrosPerOrder: us,
    };
  } finally {
    await stopProcess(connector);
  }
}

try {
  // Warm-up round (not reported): the queue leader, the database's caches, the JIT of the fill.
  await drain(await fill(2000), false);
  for (let r = 0; r < ROUNDS; r++) {
    const accepted = await fill(ORDERS);
    const result = await drain(accepted, args.includes('--profile') && r === ROUNDS - 1);
    console.log(JSON.stringify({ round: r + 1, ...result }));
  }
} finally {
  await db.end();
  await cleanup();
}
