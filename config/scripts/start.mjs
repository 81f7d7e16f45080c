#!/usr/bin/env node
// `npm start`: the whole Switchboard on one machine. Provisions PostgreSQL + RabbitMQ (env URLs, Docker or
// local servers), migrates and seeds demo data, starts every app with demo credentials from .data/demo.json,
// waits until each is healthy and prints how to use it. Ctrl-C stops the apps, then only the servers it
// started. Node built-ins only (runs before anything else is known to work).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { styleText } from 'node:util';
import { APPS as MANIFEST } from '../apps.mjs';
import { ensureStack } from '../stack/stack.mjs';
import { printBanner } from './banner.mjs';
import { withAppEnv, withAppV8Flags } from './v8-flags.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// SWITCHBOARD_DEMO_FILE: another place for it (the quick-start e2e test keeps a checkout's own demo untouched).
const DEMO_FILE = process.env.SWITCHBOARD_DEMO_FILE
  ? path.resolve(process.env.SWITCHBOARD_DEMO_FILE)
  : path.join(ROOT, '.data', 'demo.json');
const DEMO_PEER = 'demo-shop';
const HEALTH_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const TAIL_LINES = 20;

const env = process.env;
// util.styleText drops the colours when the stream is not a terminal or NO_COLOR / NODE_DISABLE_COLORS is set.
const paint = (format, s, stream = process.stdout) => styleText(format, s, { stream });
const bold = (s) => paint('bold', s);
const dim = (s) => paint('dim', s);
const say = (msg) => console.log(`${paint(['bold', 'green'], '[start]')} ${msg}`);
const warn = (msg) => console.error(`${paint(['bold', 'red'], '[start]', process.stderr)} ${msg}`);

// Every app of config/apps.json, on its port (or the one its env var names).
const APPS = MANIFEST.map((m) => ({
  name: m.name,
  portVar: m.portEnv,
  hostVar: m.hostEnv ?? null,
  port: m.port,
  metricsPortVar: m.metricsPortEnv,
  metricsPort: m.metricsPort,
  color: m.color,
  healthPath: m.health.path,
})).map((a) => {
  const port = Number(env[a.portVar] || a.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    warn(`${a.portVar} must be a port number, got "${env[a.portVar]}"`);
    process.exit(2);
  }
  // Apps listen on 0.0.0.0 by default; talk to them over loopback unless bound to one specific address.
  const urlOf = (bound, p) => {
    const host = !bound || bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
    return `http://${host.includes(':') ? `[${host}]` : host}:${p}`;
  };
  const url = urlOf(a.hostVar && env[a.hostVar], port);
  // Gateway and console serve /metrics on a separate listener (METRICS_HOST, loopback by default).
  const metricsPort = a.metricsPortVar ? Number(env[a.metricsPortVar] || a.metricsPort) : null;
  const metricsUrl = metricsPort ? urlOf(env.METRICS_HOST, metricsPort) : url;
  return {
    ...a,
    port,
    url,
    metricsPort,
    metricsUrl,
    main: path.join(ROOT, 'dist/apps', a.name, 'src/main.js'),
  };
});

/** Hide the password of a URL shown on screen (env-supplied URLs may carry real ones). */
function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href.replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}

// ---------------------------------------------------------------- demo credentials
const newKey = () => crypto.randomBytes(24).toString('base64url');
const newSecret = () => crypto.randomBytes(32).toString('base64');

/** Demo peers `npm start` keeps issued; their tokens are real credentials from `cli peers create`. */
const DEMO_PEERS = [
  { id: DEMO_PEER, name: 'Demo shop', kind: 'website', provider: 'generic', scopes: 'website.*' },
  {
    id: 'demo-woo',
    name: 'Demo WooCommerce shop',
    kind: 'website',
    provider: 'woocommerce',
    scopes: 'website.*',
  },
  { id: 'demo-pbx', name: 'Demo office PBX', kind: 'telephony', provider: 'generic', scopes: 'telephony.*' },
  { id: 'demo-1c', name: 'Demo 1C', kind: 'erp', provider: '1c', scopes: 'erp.*' },
];

/**
 * Stable across runs (mode 600): the admin token, the pepper and master key the apps need, the WooCommerce demo
 * signing secret and the demo peers' tokens. Reused so pasted curls keep working; missing parts are added.
 */
function loadOrCreateDemo() {
  fs.mkdirSync(path.dirname(DEMO_FILE), { recursive: true });
  let demo = {};
  let created = false;
  if (fs.existsSync(DEMO_FILE)) {
    try {
      demo = JSON.parse(fs.readFileSync(DEMO_FILE, 'utf8'));
    } catch (e) {
      throw new Error(`${DEMO_FILE} is not valid (${e.message}); delete it to issue new demo credentials`);
    }
  } else created = true;
  demo.adminToken ??= newKey();
  demo.pepper ??= newSecret();
  // A key id of its own per demo.json, so a stale database names the key it lacks instead of failing to open.
  demo.masterKeys ??= `demo${Date.now().toString(36)}:${newSecret()}`;
  demo.wooSigningSecret ??= newKey();
  demo.tokens ??= {};
  delete demo.peers; // the foundation's static keys; peers now get issued credentials
  saveDemo(demo);
  return { demo, created };
}

function saveDemo(demo) {
  const tmp = `${DEMO_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, DEMO_FILE);
  fs.chmodSync(DEMO_FILE, 0o600);
}

/** Creates the demo peers that do not exist yet and issues a credential where demo.json has none. */
async function ensureDemoPeers(demo, childEnv, cli, freshDemo) {
  const run = async (...args) => {
    const r = await runCommand(process.execPath, [cli, ...args, '--json'], childEnv);
    return {
      ok: r.code === 0,
      json: r.code === 0 ? JSON.parse(r.out.trim().split('\n').pop()) : null,
      err: r.err,
    };
  };
  for (const p of DEMO_PEERS) {
    const shown = await run('peers', 'show', p.id);
    let token = null;
    if (!shown.ok) {
      const args = [
        'peers',
        'create',
        '--id',
        p.id,
        '--name',
        p.name,
        '--kind',
        p.kind,
        '--provider',
        p.provider,
      ];
      args.push('--scopes', p.scopes);
      if (p.provider === 'woocommerce') args.push('--signing-secret', demo.wooSigningSecret);
      const created = await run(...args);
      if (!created.ok) throw new Error(`creating demo peer ${p.id} failed: ${created.err.trim()}`);
      token = created.json.credential.token;
    } else {
      if (freshDemo && p.provider === 'woocommerce') {
        // demo.json is new but the database is not: seal the demo secret under the new master key.
        const updated = await run('peers', 'update', p.id, '--signing-secret', demo.wooSigningSecret);
        if (!updated.ok) throw new Error(`updating demo peer ${p.id} failed: ${updated.err.trim()}`);
      }
      const live = shown.json.credentials.some(
        (c) => c.id === credentialIdOf(demo.tokens[p.id]) && ['active', 'retiring'].includes(c.state),
      );
      if (!live) {
        const issued = await run('peers', 'rotate', p.id);
        if (!issued.ok) throw new Error(`issuing a credential for ${p.id} failed: ${issued.err.trim()}`);
        token = issued.json.token;
      }
    }
    if (token) {
      demo.tokens[p.id] = token;
      saveDemo(demo);
    }
  }
}

const credentialIdOf = (token) => (typeof token === 'string' ? token.split('_')[1] : undefined);

// ---------------------------------------------------------------- processes
/** Resolves { code, out } of a short command; never rejects. */
function runCommand(cmd, args, childEnv) {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const child = spawn(cmd, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve({ code: -1, out, err: e.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? signal, out, err }));
  });
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

const running = new Map(); // name -> { child, exited: Promise, tail: string[] }
const width = Math.max(...APPS.map((a) => a.name.length));

function startApp(app, childEnv) {
  const child = spawn(process.execPath, withAppV8Flags([app.main]), {
    cwd: ROOT,
    env: withAppEnv([app.main], {
      ...childEnv,
      [app.portVar]: String(app.port),
      ...(app.metricsPortVar && { [app.metricsPortVar]: String(app.metricsPort) }),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const state = { child, tail: [], exited: null };
  const prefix = `${paint(app.color, app.name.padEnd(width))} ${dim('|')} `;
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      state.tail.push(line);
      if (state.tail.length > TAIL_LINES) state.tail.shift();
      out.write(`${prefix}${line}\n`);
    });
  }
  state.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (e) => warn(`${app.name}: ${e.message}`));
  running.set(app.name, state);
  void state.exited.then((how) => onAppExit(app, how));
  return state;
}

const lastLines = (name, n = 15) => {
  const lines = running.get(name)?.tail.slice(-n) ?? [];
  return lines.length ? lines.map((l) => `    ${l}`).join('\n') : '    (no output)';
};
const describeExit = ({ code, signal }) => (signal ? `signal ${signal}` : `exit code ${code}`);

async function waitHealthy(app) {
  const state = running.get(app.name);
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = 'no answer';
  for (;;) {
    if (state.child.exitCode !== null || state.child.signalCode !== null) {
      const how = describeExit({ code: state.child.exitCode, signal: state.child.signalCode });
      throw new Error(
        `${app.name} exited during start-up (${how}). Its last output:\n${lastLines(app.name)}`,
      );
    }
    try {
      const res = await fetch(`${app.url}${app.healthPath}`, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.status === 200) return;
      last = `${res.status} ${body.slice(0, 300)}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${app.name} was not healthy within ${HEALTH_TIMEOUT_MS / 1000} s ` +
          `(GET ${app.url}${app.healthPath}: ${last}). Its last output:\n${lastLines(app.name)}`,
      );
    }
    await sleep(250);
  }
}

// ---------------------------------------------------------------- shutdown
let stack = null;
let stopping = null; // the shutdown promise once begun
let stopRequested = false; // a signal arrived before there was anything to stop
let firstSignalAt = 0;

function shutdown(exitCode, reason) {
  if (stopping) return stopping;
  stopping = (async () => {
    if (reason) say(reason);
    const apps = [...running.entries()];
    for (const [, s] of apps)
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
    await Promise.all(
      apps.map(async ([name, s]) => {
        const timedOut = await Promise.race([
          s.exited.then(() => false),
          sleep(STOP_TIMEOUT_MS).then(() => true),
        ]);
        if (timedOut) {
          warn(`${name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`);
          s.child.kill('SIGKILL');
          await s.exited;
        }
      }),
    );
    if (apps.length) say('apps stopped');
    if (stack) {
      try {
        await stack.stop();
        if (stack.started.length) say(`stopped ${stack.started.join(' and ')}`);
      } catch (e) {
        warn(`could not stop ${stack.started.join(' and ')}: ${e.message}`);
        exitCode ||= 1;
      }
    }
    process.exit(exitCode);
  })();
  return stopping;
}

function onAppExit(app, how) {
  if (stopping) return;
  // Ctrl-C reaches the apps (same process group) as well as us; give our own signal handler a moment to
  // win so a normal stop is not reported as a crash.
  setTimeout(() => {
    if (stopping) return;
    warn(`${app.name} stopped unexpectedly (${describeExit(how)}). Its last output:\n${lastLines(app.name)}`);
    void shutdown(1, 'shutting everything down');
  }, 300);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping || stopRequested) {
      // Another Ctrl-C a moment later (not the same keypress relayed twice): stop waiting for the apps to
      // finish gracefully. The servers are still stopped properly.
      if (Date.now() - firstSignalAt > 1000) for (const [, s] of running) s.child.kill('SIGKILL');
      return;
    }
    stopRequested = true;
    firstSignalAt = Date.now();
    if (stack) void shutdown(0, `${signal}: stopping`);
    else say(`${signal}: stopping once the servers are up (they are being started)`);
  });
}

// ---------------------------------------------------------------- main
function banner(demo) {
  printBanner({
    apps: APPS,
    demo,
    demoPeer: DEMO_PEER,
    demoFile: path.relative(process.cwd(), DEMO_FILE) || DEMO_FILE,
    servers: [
      `${'PostgreSQL'.padEnd(width)}  ${redact(stack.databaseUrl)}`,
      `${'RabbitMQ'.padEnd(width)}  ${redact(stack.amqpUrl)}   ${dim(`(${stack.mode === 'env' ? 'from the environment' : stack.mode})`)}`,
      `${'Runtime'.padEnd(width)}  Node ${process.versions.node}   ${dim(path.relative(ROOT, process.execPath) || process.execPath)}`,
    ],
    bold,
    dim,
  });
}

async function main() {
  // npm puts node_modules/.bin first on PATH, so `npm start` runs on the Node package.json pins; a bare
  // `node config/scripts/start.mjs` on an older system Node would start apps the project no longer supports.
  if (Number(process.versions.node.split('.')[0]) < 22) {
    throw new Error(
      `Node ${process.versions.node} is too old: run \`npm start\` (it uses the Node 24 runtime pinned in package.json)`,
    );
  }
  say(`runtime: Node ${process.versions.node}`);
  say('provisioning PostgreSQL and RabbitMQ');
  const missing = APPS.filter((a) => !fs.existsSync(a.main)).map((a) => path.relative(ROOT, a.main));
  if (missing.length) throw new Error(`not built: ${missing.join(', ')} (run \`npm run build\`)`);
  const busy = [];
  for (const a of APPS) {
    if (!(await portFree(a.port))) busy.push(`${a.port} (${a.portVar})`);
    if (a.metricsPort && !(await portFree(a.metricsPort)))
      busy.push(`${a.metricsPort} (${a.metricsPortVar})`);
  }
  if (busy.length) {
    throw new Error(
      `port ${busy.join(', ')} already in use: is another Switchboard running? Stop it or choose other ports.`,
    );
  }

  stack = await ensureStack({ root: ROOT, log: (m) => console.error(dim(m)) });
  if (stopRequested) return shutdown(0, 'stopping');
  say(
    `stack: ${stack.mode}${stack.started.length ? `, started ${stack.started.join(' and ')}` : ', reusing running servers'}`,
  );

  const { demo, created } = loadOrCreateDemo();
  // The operator CLI reads these when run in another terminal without exports (libs/config local-demo.ts).
  demo.databaseUrl = stack.databaseUrl;
  demo.amqpUrl = stack.amqpUrl;
  saveDemo(demo);
  say(`${created ? 'created' : 'using'} demo credentials in ${DEMO_FILE}`);

  const childEnv = {
    ...env,
    DATABASE_URL: stack.databaseUrl,
    AMQP_URL: stack.amqpUrl,
    ADMIN_TOKEN: demo.adminToken,
    SWITCHBOARD_PEPPER:
      env.SWITCHBOARD_PEPPER || env.SWITCHBOARD_PEPPER_FILE ? env.SWITCHBOARD_PEPPER : demo.pepper,
    SWITCHBOARD_MASTER_KEYS:
      env.SWITCHBOARD_MASTER_KEYS || env.SWITCHBOARD_MASTER_KEYS_FILE
        ? env.SWITCHBOARD_MASTER_KEYS
        : demo.masterKeys,
    LOG_FORMAT: env.LOG_FORMAT || 'pretty',
  };
  const cli = path.join(ROOT, 'dist/apps/console/src/cli.js');
  const seed = await runCommand(process.execPath, [cli, 'seed-demo', '--json'], childEnv);
  if (stopRequested) return shutdown(0, 'stopping');
  if (seed.code !== 0) {
    throw new Error(
      `migrations / demo seed failed (\`node ${path.relative(ROOT, cli)} seed-demo\`, exit ${seed.code}):\n` +
        `${`${seed.err}\n${seed.out}`.trim()}`,
    );
  }
  let managers = '?';
  try {
    managers = JSON.parse(seed.out.trim().split('\n').pop()).managers.length;
  } catch {
    // output format is informational only
  }
  say(`database migrated; ${managers} demo managers in place`);
  await ensureDemoPeers(demo, childEnv, cli, created);
  say(`demo peers ${DEMO_PEERS.map((p) => p.id).join(', ')} have credentials`);

  for (const app of APPS) startApp(app, childEnv);
  say(`waiting for ${APPS.map((a) => a.name).join(', ')} to report healthy`);
  await Promise.all(APPS.map((a) => waitHealthy(a)));
  if (stopping) return stopping;
  banner(demo);
}

main().catch((e) => {
  if (stopping) return;
  if (stopRequested) {
    // Interrupted while starting: the failure is most likely the interruption itself.
    console.error(dim(e.message));
    return void shutdown(0, 'stopped during start-up');
  }
  warn(e.message);
  void shutdown(1, running.size || stack?.started.length ? 'shutting everything down' : null);
});
