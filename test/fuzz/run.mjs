// npm run fuzz [-- --iterations N] [--seed S] [--concurrency C]
//   Fuzzes every peer endpoint of a real gateway (own database and broker namespace, like the bench: fresh
//   DB, migrate, peers from test/fuzz/peers.json, gateway + both connectors + console) with generated bad
//   input, prints endpoint | requests | 2xx | 4xx | >=500 | resets, writes .data/fuzz-report.json|md and
//   exits 1 on any finding (5xx, non-problem 4xx, accepted invalid input, reset/hang, crash, CRM change).
// node test/fuzz/run.mjs --seed S --case I     prints case I of seed S (the reproducer of a finding)
// node test/fuzz/run.mjs --serve                starts a fuzz system and prints its FUZZ_ATTACH (until Ctrl-C)
// node test/fuzz/run.mjs --attach               fuzzes a running system described by env FUZZ_ATTACH (JSON:
//   { gatewayUrl, peers, iterations, seed }) and prints the result as JSON (the e2e suite uses this).
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, ensureStack } from '../../config/stack/stack.mjs';
import { caseContext, describeCase, makeCase } from './cases.mjs';
import { acceptedEvents, countChanges, crmCounts } from './crm.mjs';
import { loadSignatures, runFuzz, sendCase } from './fuzzer.mjs';
import { markdown, summaryTable } from './report.mjs';
import { freePort, sleep, spawnLogged, stopProcess, waitHealthy } from '../support/processes.mjs';

const ROOT = join(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const log = (m) => process.stderr.write(`[fuzz] ${m}\n`);
const SPEC = JSON.parse(readFileSync(join(import.meta.dirname, 'peers.json'), 'utf8')).peers;
const ITERATIONS = Number(flag('iterations', 5000));
const SEED = Number(flag('seed', randomBytes(4).readUInt32BE(0)));
const CONCURRENCY = Number(flag('concurrency', 8));

function cli(env, ...argv) {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [join(ROOT, 'dist/apps/console/src/cli.js'), ...argv, '--json'],
      { env: { ...process.env, ...env }, cwd: ROOT, timeout: 120_000 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`cli ${argv.join(' ')}: ${stderr || err.message}`))
          : resolve(JSON.parse(stdout)),
    ),
  );
}

async function startApp(app, env, port) {
  const logDir = join(ROOT, '.data', 'fuzz-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${app}.log`);
  const argv = [join(ROOT, 'dist/apps', app, 'src/main.js')];
  const proc = spawnLogged(argv, { env: { ...process.env, ...env }, cwd: ROOT, logFile });
  return waitHealthy(proc, `http://127.0.0.1:${port}`, { name: app, logFile });
}

/** Creates the fuzz peers through the console API; returns { role: { id, token, signingSecret } }. */
export async function createPeers(consoleUrl, adminToken) {
  const peers = {};
  for (const { role, ...fields } of SPEC) {
    const res = await fetch(`${consoleUrl}/v1/admin/peers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `fuzz ${role}`, rateLimitPerMinute: 10_000_000, ...fields }),
    });
    const body = await res.json();
    if (res.status !== 201)
      throw new Error(`creating peer ${fields.id}: ${res.status} ${JSON.stringify(body)}`);
    peers[role] = { id: fields.id, token: body.credential?.token, signingSecret: fields.signingSecret };
  }
  return peers;
}

/** Waits until the connectors' queues are empty (nothing published should be there at all). */
async function queueDepths(amqpUrl, ns) {
  const conn = await amqp.connect(amqpUrl);
  try {
    const ch = await conn.createChannel();
    const out = {};
    for (const c of ['website-connector', 'telephony-connector']) {
      for (const q of [`${ns}.${c}`, `${ns}.${c}.dlq`]) out[q] = (await ch.checkQueue(q)).messageCount;
    }
    return out;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

async function cleanup(stack, ns) {
  const delays = JSON.parse(readFileSync(join(ROOT, 'config/test.json'), 'utf8')).amqp.retryDelaysMs;
  const conn = await amqp.connect(stack.amqpUrl);
  try {
    const ch = await conn.createChannel();
    for (const c of ['website-connector', 'telephony-connector']) {
      for (const q of [`${ns}.${c}`, `${ns}.${c}.dlq`, ...delays.map((d) => `${ns}.${c}.retry.${d}ms`)]) {
        await ch.deleteQueue(q).catch(() => undefined);
      }
    }
    await ch.deleteExchange(`${ns}.events`).catch(() => undefined);
  } finally {
    await conn.close().catch(() => undefined);
  }
  const admin = new pg.Client({ connectionString: stack.databaseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS sb_${ns} WITH (FORCE)`);
  await admin.end();
}

/** A whole system of our own: database, namespace, console (to create the peers), gateway, connectors. */
async function startSystem() {
  const stack = await ensureStack({ log });
  const ns = `fuzz${randomBytes(3).toString('hex')}`;
  const databaseUrl = await createDatabase(stack.databaseUrl, `sb_${ns}`);
  const adminToken = randomBytes(24).toString('hex');
  const env = {
    NODE_ENV: 'test',
    SWITCHBOARD_CONFIG_DIR: join(ROOT, 'config'),
    DATABASE_URL: databaseUrl,
    AMQP_URL: stack.amqpUrl,
    AMQP_NAMESPACE: ns,
    ADMIN_TOKEN: adminToken,
    SWITCHBOARD_PEPPER: randomBytes(32).toString('base64'),
    SWITCHBOARD_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'warn',
    // Thousands of bad credentials would lock the fuzz peers out, and then validation is never reached.
    PEER_LOCKOUT_MAX_FAILURES: '100000000',
    PEER_LOCKOUT_IP_MAX_FAILURES: '100000000',
  };
  const procs = {};
  const stop = async () => {
    await Promise.all(Object.values(procs).map((p) => stopProcess(p)));
    await cleanup(stack, ns).catch((err) => log(`cleanup failed: ${err.message}`));
    await stack.stop();
  };
  try {
    await cli(env, 'migrate');
    const ports = {
      console: await freePort(),
      gateway: await freePort(),
      website: await freePort(),
      telephony: await freePort(),
      // Metrics listeners (/metrics is not on the public ports).
      gatewayMetrics: await freePort(),
      consoleMetrics: await freePort(),
    };
    env.GATEWAY_METRICS_PORT = String(ports.gatewayMetrics);
    env.CONSOLE_METRICS_PORT = String(ports.consoleMetrics);
    procs.console = await startApp('console', { ...env, CONSOLE_PORT: String(ports.console) }, ports.console);
    const peers = await createPeers(`http://127.0.0.1:${ports.console}`, adminToken);
    // Peers first: the gateway loads them at start, so no request races the directory.
    [procs.gateway, procs['website-connector'], procs['telephony-connector']] = await Promise.all([
      startApp('gateway', { ...env, GATEWAY_PORT: String(ports.gateway) }, ports.gateway),
      startApp('website-connector', { ...env, WEBSITE_CONNECTOR_PORT: String(ports.website) }, ports.website),
      startApp(
        'telephony-connector',
        { ...env, TELEPHONY_CONNECTOR_PORT: String(ports.telephony) },
        ports.telephony,
      ),
    ]);
    return {
      stack,
      ns,
      databaseUrl,
      gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
      gatewayMetricsUrl: `http://127.0.0.1:${ports.gatewayMetrics}`,
      peers,
      procs,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const running = (p) => p.exitCode === null && p.signalCode === null;

async function standalone() {
  const t0 = Date.now();
  log(`seed ${SEED}, ${ITERATIONS} iterations, concurrency ${CONCURRENCY}`);
  const sys = await startSystem();
  const { stack, ns, gatewayUrl, gatewayMetricsUrl, peers, procs } = sys;
  const db = new pg.Client({ connectionString: sys.databaseUrl });
  let result;
  let crm;
  try {
    await db.connect();
    const query = async (sql) => (await db.query(sql)).rows;
    const before = { crm: await crmCounts(query), accepted: await acceptedEvents(gatewayMetricsUrl) };

    result = await runFuzz({
      gatewayUrl,
      peers,
      iterations: ITERATIONS,
      seed: SEED,
      concurrency: CONCURRENCY,
      isAlive: () => running(procs.gateway),
      log,
    });

    // Let the connectors take anything that was published (nothing should have been) before counting.
    let depths = await queueDepths(stack.amqpUrl, ns);
    for (let i = 0; i < 50 && Object.values(depths).some((n) => n > 0); i++) {
      await sleep(200);
      depths = await queueDepths(stack.amqpUrl, ns);
    }
    await sleep(1000);
    const after = {
      crm: await crmCounts(query),
      accepted: running(procs.gateway) ? await acceptedEvents(gatewayMetricsUrl).catch(() => null) : null,
    };
    const alive = Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, running(p)]));
    crm = {
      before,
      after,
      changes: countChanges(before.crm, after.crm),
      acceptedDelta: after.accepted === null ? null : after.accepted - before.accepted,
      queueDepths: depths,
      alive,
    };
    const extra = [];
    if (Object.keys(crm.changes).length) extra.push({ kind: 'crm-changed', detail: crm.changes });
    if (crm.acceptedDelta !== 0)
      extra.push({ kind: 'events-published', detail: `gateway accepted ${crm.acceptedDelta} events` });
    if (Object.values(depths).some((n) => n > 0)) extra.push({ kind: 'queues-not-empty', detail: depths });
    for (const [n, up] of Object.entries(alive))
      if (!up) extra.push({ kind: 'crash', detail: `${n} exited` });
    for (const f of extra) {
      result.findingCounts[f.kind] = (result.findingCounts[f.kind] ?? 0) + 1;
      result.findings.push({ seed: SEED, ...f });
      result.findingTotal += 1;
    }
  } finally {
    await db.end().catch(() => undefined);
    await sys.stop();
  }

  const report = {
    date: new Date().toISOString(),
    totalSeconds: Math.round((Date.now() - t0) / 1000),
    ...result,
    crm,
  };
  mkdirSync(join(ROOT, '.data'), { recursive: true });
  writeFileSync(join(ROOT, '.data/fuzz-report.json'), JSON.stringify(report, null, 2));
  writeFileSync(join(ROOT, '.data/fuzz-report.md'), markdown(report) + '\n');
  console.log(summaryTable(result));
  console.log(
    `\nseed ${SEED}; ${result.sent} requests in ${result.durationSeconds} s; CRM ${Object.keys(crm.changes).length ? `CHANGED ${JSON.stringify(crm.changes)}` : 'unchanged'}; events published: ${crm.acceptedDelta}`,
  );
  console.log(
    `findings: ${result.findingTotal ? JSON.stringify(result.findingCounts) : 'none'} (details: .data/fuzz-report.md)`,
  );
  return result.findingTotal === 0;
}

/** --serve: a fuzz system for replaying reproducers by hand; prints FUZZ_ATTACH and runs until Ctrl-C. */
async function serve() {
  const sys = await startSystem();
  console.log(JSON.stringify({ gatewayUrl: sys.gatewayUrl, peers: sys.peers }));
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sys.stop();
  return true;
}

async function attach() {
  const cfg = JSON.parse(process.env.FUZZ_ATTACH ?? '{}');
  const result = await runFuzz({ concurrency: CONCURRENCY, ...cfg, log });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return true;
}

/**
 * --case I: prints case I of --seed S as it would be sent. With FUZZ_ATTACH (e.g. from --serve) it is sent
 * to that gateway with its peers' credentials, and the answer and verdict are printed too.
 */
async function printCase() {
  const attached = process.env.FUZZ_ATTACH ? JSON.parse(process.env.FUZZ_ATTACH) : null;
  const placeholder = `sbp_${'T'.repeat(12)}_${'t'.repeat(38)}`;
  const peers =
    attached?.peers ??
    Object.fromEntries(
      SPEC.map((p) => [p.role, { id: p.id, token: placeholder, signingSecret: p.signingSecret }]),
    );
  const ctx = caseContext({
    gatewayUrl: attached?.gatewayUrl ?? 'http://127.0.0.1:8080',
    peers,
    sig: loadSignatures(),
  });
  const req = makeCase(ctx, SEED, Number(flag('case', 0)));
  console.log(JSON.stringify(describeCase(req), null, 2));
  if (args.includes('--full')) process.stdout.write((req.raw ?? req.body).toString('latin1') + '\n');
  if (!attached) return true;
  const { res, verdict } = await sendCase(req);
  console.log(
    JSON.stringify(
      {
        status: res.status,
        error: res.error,
        contentType: res.headers?.['content-type'],
        body: res.body?.slice(0, 500),
        verdict,
      },
      null,
      2,
    ),
  );
  return !verdict.finding;
}

const main = args.includes('--case')
  ? printCase
  : args.includes('--attach')
    ? attach
    : args.includes('--serve')
      ? serve
      : standalone;
Promise.resolve(main()).then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
