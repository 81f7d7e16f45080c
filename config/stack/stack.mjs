// Provisions PostgreSQL + RabbitMQ for `npm start` and the jest global setup.
// Node built-ins only. Preference: env URLs > Docker compose > local servers under <root>/.data.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const DEFAULTS = { pgPort: 55432, amqpPort: 55672, management: false };
// Erlang distribution and management ports default to amqpPort + 1 / + 2 (55673 / 55674).
const withDefaults = (opts) => {
  const o = { ...DEFAULTS, ...opts };
  return { ...o, distPort: o.distPort ?? o.amqpPort + 1, mgmtPort: o.mgmtPort ?? o.amqpPort + 2 };
};
const RABBIT_BIN = '/usr/lib/rabbitmq/bin';
const INSTALL_HINT =
  'install them (Debian/Ubuntu: `sudo apt-get install -y --no-install-recommends postgresql rabbitmq-server`), ' +
  'start a Docker engine (docker compose), or set DATABASE_URL and AMQP_URL';
const isRoot = process.getuid?.() === 0;
const exists = (p) => fs.existsSync(p);
const tail = (s, n = 15) => String(s).trim().split('\n').slice(-n).join('\n');
const readTail = (f, n) => (exists(f) ? tail(fs.readFileSync(f, 'utf8'), n) : '(no log)');

/** Run a command; never rejects. Resolves { code, out } (stdout+stderr). */
function run(cmd, args, { env = process.env, cwd, timeout = 120_000 } = {}) {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(cmd, args, { env, cwd, timeout, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => resolve({ code: -1, out: String(e.message) }));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}
async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.code}):\n${tail(r.out)}`);
  return r.out;
}

/** Connect, optionally send `hello`, resolve true if `check(firstChunk)` passes (or on connect if no hello). */
function probe(host, port, hello, check, timeout = 1500) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok) => (sock.destroy(), resolve(ok));
    sock.setTimeout(timeout, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => (hello ? sock.write(hello) : done(true)));
    sock.on('data', (d) => done(check(d)));
  });
}
export const tcpReachable = (host, port) => probe(host, port);
// A real server answers an SSLRequest with 'S' or 'N' (a docker-proxy port without backend does not).
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
export const pgReady = (host, port) => probe(host, port, SSL_REQUEST, (d) => d[0] === 0x53 || d[0] === 0x4e);
// A ready broker answers the AMQP 0-9-1 header with a Connection.Start method frame (class 10, method 10).
const AMQP_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
export const amqpReady = (host, port) =>
  probe(
    host,
    port,
    AMQP_HEADER,
    (d) => d.length >= 11 && d[0] === 1 && d.readUInt16BE(7) === 10 && d.readUInt16BE(9) === 10,
  );

async function waitFor(what, fn, timeoutMs, onTimeout = () => '') {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs / 1000}s waiting for ${what}\n${onTimeout()}`);
    await sleep(250);
  }
}

const hostPort = (url, defPort) => {
  const u = new URL(url);
  return [u.hostname.replace(/^\[|\]$/g, ''), Number(u.port) || defPort];
};
const pgUrl = (port, db = 'switchboard') => `postgres://switchboard:switchboard@127.0.0.1:${port}/${db}`;
const amqpUrl = (port) => `amqp://guest:guest@127.0.0.1:${port}`;

// ---------------------------------------------------------------- PostgreSQL
function pgBinDir() {
  const dirs = [process.env.PG_BIN];
  try {
    dirs.push(
      ...fs
        .readdirSync('/usr/lib/postgresql')
        .sort((a, b) => b - a)
        .map((v) => `/usr/lib/postgresql/${v}/bin`),
    );
  } catch {
    // no versioned PostgreSQL install under /usr/lib; fall back to PATH
  }
  dirs.push(...(process.env.PATH || '').split(':'));
  return dirs.find((d) => d && ['initdb', 'pg_ctl', 'psql'].every((b) => exists(path.join(d, b))));
}
function pgBin(name) {
  const dir = pgBinDir();
  if (!dir) throw new Error(`PostgreSQL binaries (initdb/pg_ctl/psql) not found: ${INSTALL_HINT}`);
  return path.join(dir, name);
}
const pgPaths = (root) => {
  const data = path.join(root, '.data');
  let sock = path.join(data, 'run');
  // Unix socket paths are limited to ~107 bytes; fall back to a short per-repo dir in /tmp.
  if (sock.length > 80)
    sock = path.join(
      os.tmpdir(),
      `sb-pg-${crypto.createHash('sha1').update(root).digest('hex').slice(0, 8)}`,
    );
  return { data, pg: path.join(data, 'pg'), log: path.join(data, 'pg.log'), sock };
};
function postgresUser() {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('Running as root but there is no `postgres` system user to run PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
// PostgreSQL refuses to run as root: run its server tools as the postgres user then.
function pgExec(cmd, args, opts) {
  if (!isRoot) return must(cmd, args, opts);
  if (exists('/usr/sbin/runuser') || exists('/sbin/runuser'))
    return must('runuser', ['-u', 'postgres', '--', cmd, ...args], opts);
  const q = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return must('su', ['postgres', '-s', '/bin/sh', '-c', q], opts);
}
const chownPg = (p) => isRoot && fs.chownSync(p, postgresUser().uid, postgresUser().gid);
const psql = (url, sql, opts) => must(pgBin('psql'), [url, '-XAtqv', 'ON_ERROR_STOP=1', '-c', sql], opts);

/** Create database `name` on the server of `baseUrl` if missing; returns its URL. */
export async function createDatabase(baseUrl, name) {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`Invalid database name: ${name}`);
  const admin = new URL(baseUrl);
  admin.pathname = '/postgres';
  const found = await psql(admin.href, `SELECT 1 FROM pg_database WHERE datname = '${name}'`);
  if (!found.trim()) {
    // A concurrent caller may win the race; "already exists" is fine.
    await psql(admin.href, `CREATE DATABASE "${name}"`).catch((e) => {
      if (!/already exists/.test(e.message)) throw e;
    });
  }
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return u.href;
}

export async function startPostgres(root = process.cwd(), opts = {}) {
  const { pgPort, log = console.error } = withDefaults(opts);
  const p = pgPaths(root);
  fs.mkdirSync(p.data, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(p.data, '.gitignore'), '*\n');
  const exec = { cwd: p.data }; // the postgres user may not be able to enter the caller's cwd
  const ok = (cmd, args) =>
    pgExec(cmd, args, exec).then(
      () => true,
      () => false,
    );
  if (isRoot && !(await ok('test', ['-x', p.data]))) {
    throw new Error(`The postgres user cannot access ${p.data} (a parent directory is not world-searchable)`);
  }
  if (exists(path.join(p.pg, 'PG_VERSION')) && (await ok(pgBin('pg_ctl'), ['-D', p.pg, 'status']))) {
    log(`[stack] postgres already running in ${p.pg}`);
    return createDatabase(pgUrl(pgPort), 'switchboard');
  }
  if (!exists(path.join(p.pg, 'PG_VERSION'))) {
    log(`[stack] initdb ${p.pg}`);
    fs.rmSync(p.pg, { recursive: true, force: true }); // leftovers of an interrupted initdb
    fs.mkdirSync(p.pg, { mode: 0o700 });
    chownPg(p.pg);
    const pw = path.join(p.data, '.pgpass-init');
    fs.writeFileSync(pw, 'switchboard\n', { mode: 0o600 });
    chownPg(pw);
    try {
      await pgExec(
        pgBin('initdb'),
        [
          '-D',
          p.pg,
          '-U',
          'switchboard',
          `--pwfile=${pw}`,
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
          '-E',
          'UTF8',
          '--locale=C',
        ],
        exec,
      );
    } finally {
      fs.rmSync(pw, { force: true });
    }
  }
  fs.mkdirSync(p.sock, { recursive: true, mode: 0o755 });
  chownPg(p.sock);
  fs.closeSync(fs.openSync(p.log, 'a'));
  chownPg(p.log);
  log(`[stack] starting postgres on 127.0.0.1:${pgPort}`);
  const o = `-p ${pgPort} -k '${p.sock}' -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 -c shared_buffers=256MB`;
  for (let attempt = 1; ; attempt++) {
    try {
      await pgExec(pgBin('pg_ctl'), ['-D', p.pg, '-l', p.log, '-o', o, '-w', '-t', '60', 'start'], exec);
      break;
    } catch (e) {
      // After a crash (kill -9) orphaned backends keep the old postmaster.pid "in use" for a
      // moment until they notice the postmaster is gone; retry instead of failing.
      if (attempt < 10 && /lock file "postmaster.pid" already exists/.test(readTail(p.log, 3))) {
        await sleep(1000);
        continue;
      }
      throw new Error(`${e.message}\n--- ${p.log} ---\n${readTail(p.log)}`);
    }
  }
  await createDatabase(pgUrl(pgPort), 'switchboard');
  return pgUrl(pgPort);
}

/** Stop the local server under <root>/.data/pg if running; resolves true if it was stopped. */
export async function stopPostgres(root = process.cwd()) {
  const p = pgPaths(root);
  if (!exists(path.join(p.pg, 'PG_VERSION')) || !pgBinDir()) return false;
  const running = await pgExec(pgBin('pg_ctl'), ['-D', p.pg, 'status'], { cwd: p.data }).then(
    () => true,
    () => false,
  );
  if (running) await pgExec(pgBin('pg_ctl'), ['-D', p.pg, '-m', 'fast', '-w', 'stop'], { cwd: p.data });
  return running;
}

// ---------------------------------------------------------------- RabbitMQ
const rabbitDir = (root) => path.join(root, '.data', 'rabbitmq');
// Node names are machine-wide (epmd): the default port gets switchboard@localhost, other ports their
// own name so a second stack can run beside it. Persisted so that stop/ctl find it without the ports.
const nodeFile = (root) => path.join(rabbitDir(root), 'nodename');
const nodeFor = (port) =>
  port === DEFAULTS.amqpPort ? 'switchboard@localhost' : `switchboard-${port}@localhost`;
export const rabbitNode = (root = process.cwd()) =>
  exists(nodeFile(root)) ? fs.readFileSync(nodeFile(root), 'utf8').trim() : nodeFor(DEFAULTS.amqpPort);
function rabbitEnv(root, { amqpPort, distPort } = withDefaults()) {
  const d = rabbitDir(root);
  return {
    ...process.env,
    HOME: d, // the Erlang cookie is read from $HOME/.erlang.cookie by server and CLI alike
    RABBITMQ_NODENAME: rabbitNode(root),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(d, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(d, 'log'),
    RABBITMQ_PID_FILE: path.join(d, 'pid'),
    RABBITMQ_CONFIG_FILE: path.join(d, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(d, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: path.join(d, 'rabbitmq-env.conf'), // isolate from /etc/rabbitmq
    // Keep epmd (auto-started by erl) and the distribution port on loopback only.
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}
const rabbitctl = (root, args, o) =>
  must(path.join(RABBIT_BIN, 'rabbitmqctl'), ['-n', rabbitNode(root), ...args], {
    env: rabbitEnv(root, o),
    timeout: 60_000,
  });

export async function startRabbit(root = process.cwd(), opts = {}) {
  const o = withDefaults(opts);
  const log = o.log || console.error;
  const server = path.join(RABBIT_BIN, 'rabbitmq-server');
  if (!exists(server)) throw new Error(`RabbitMQ not found at ${server}: ${INSTALL_HINT}`);
  if (await amqpReady('127.0.0.1', o.amqpPort)) return amqpUrl(o.amqpPort); // already up
  const d = rabbitDir(root);
  for (const sub of ['mnesia', 'log']) fs.mkdirSync(path.join(d, sub), { recursive: true });
  const cookie = path.join(d, '.erlang.cookie');
  if (!exists(cookie))
    fs.writeFileSync(cookie, crypto.randomBytes(15).toString('hex').toUpperCase(), { mode: 0o600 });
  fs.chmodSync(cookie, 0o600); // Erlang refuses cookies readable by others
  const node = nodeFor(o.amqpPort);
  fs.writeFileSync(nodeFile(root), node);
  fs.writeFileSync(path.join(d, 'rabbitmq-env.conf'), '');
  // Management UI/API is opt-in: it adds ~5 s to every broker stop (stats collector shutdown).
  fs.writeFileSync(path.join(d, 'enabled_plugins'), o.management ? '[rabbitmq_management].\n' : '[].\n');
  fs.writeFileSync(
    path.join(d, 'rabbitmq.conf'),
    [
      'loopback_users = none',
      `listeners.tcp.default = 127.0.0.1:${o.amqpPort}`,
      'disk_free_limit.absolute = 50MB',
      'log.console = false', // node log goes to RABBITMQ_LOG_BASE; stdout only gets early boot output
      'management.tcp.ip = 127.0.0.1',
      `management.tcp.port = ${o.mgmtPort}`,
      '',
    ].join('\n'),
  );
  log(
    `[stack] starting rabbitmq ${node} on 127.0.0.1:${o.amqpPort}${o.management ? ` (management :${o.mgmtPort})` : ''}`,
  );
  const logFile = path.join(root, '.data', 'rabbitmq.log');
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(server, [], {
    env: rabbitEnv(root, o),
    cwd: d,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  let exited = null;
  child.on('exit', (code) => (exited = code ?? 'signal'));
  child.unref();
  const nodeLog = path.join(d, 'log', `${node}.log`);
  const t0 = Date.now();
  const fresh = (f) => exists(f) && fs.statSync(f).mtimeMs >= t0 - 1000; // skip a previous run's log
  const why = () =>
    [logFile, nodeLog]
      .filter(fresh)
      .map((f) => `--- ${f} ---\n${readTail(f)}`)
      .join('\n');
  try {
    await waitFor(
      `RabbitMQ on 127.0.0.1:${o.amqpPort}`,
      async () => {
        if (exited !== null) throw new Error(`rabbitmq-server exited early (${exited})\n${why()}`);
        return amqpReady('127.0.0.1', o.amqpPort);
      },
      90_000,
      why,
    );
    await rabbitctl(root, ['await_startup', '--timeout', '60'], o); // all boot steps done, not just the listener
  } catch (e) {
    // detached => the child leads its own process group (sh wrapper + beam): don't leave it half-booted.
    if (exited === null)
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    throw e;
  }
  return amqpUrl(o.amqpPort);
}

/** Stop the local node (started by anyone) if running; resolves true if it was stopped. */
export async function stopRabbit(root = process.cwd()) {
  const d = rabbitDir(root);
  if (!exists(path.join(d, '.erlang.cookie'))) return false;
  const pidFile = path.join(d, 'pid');
  const pid = exists(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : 0;
  // Guard against a stale pid file whose pid now belongs to some other process.
  const alive = () => {
    try {
      return pid > 0 && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('beam');
    } catch {
      return false;
    }
  };
  const wasAlive = alive();
  // With a pid file argument, `stop` waits until the OS process is gone (port free for a restart).
  const ok = await rabbitctl(root, ['stop', ...(wasAlive ? [pidFile] : [])]).then(
    () => true,
    () => false,
  );
  if (!ok && alive()) {
    // CLI could not reach the node (e.g. cookie lost): fall back to SIGTERM
    process.kill(pid, 'SIGTERM');
    await waitFor(`rabbitmq pid ${pid} to exit`, async () => !alive(), 30_000);
  }
  fs.rmSync(pidFile, { force: true });
  return ok || wasAlive;
}

// ---------------------------------------------------------------- orchestration
/** Simple cross-process lock (O_EXCL file holding our pid; stale if the holder is dead). */
async function withLock(root, fn) {
  const file = path.join(root, '.data', 'stack.lock');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (const deadline = Date.now() + 180_000; ;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    const holder = Number(fs.readFileSync(file, 'utf8').trim() || 0);
    try {
      if (holder) process.kill(holder, 0);
      else throw new Error();
    } catch {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Lock ${file} held by pid ${holder} for too long`);
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function dockerAvailable() {
  return (await run('docker', ['info'], { timeout: 3000 })).code === 0;
}

// ---------------------------------------------------------------- installing the servers
const APT_PACKAGES = { postgres: 'postgresql', rabbitmq: 'rabbitmq-server' };

/**
 * What a machine lacks for `npm start` / `npm test` and what to do about it; pure, so every branch is
 * unit-tested. Nothing to do when both URLs are given or a Docker engine answers (ensureStack uses those), or
 * when both servers are installed. Otherwise the missing Debian packages are installed with apt-get as root or
 * through passwordless sudo; anywhere else (or with SWITCHBOARD_NO_INSTALL set) the one command to run is named.
 * facts: { urls, docker, postgres, rabbitmq, apt, root, sudo, optOut } (booleans).
 */
export function serverInstallPlan(facts) {
  if (facts.urls || facts.docker) return { action: 'none', packages: [] };
  const packages = ['postgres', 'rabbitmq'].filter((s) => !facts[s]).map((s) => APT_PACKAGES[s]);
  if (!packages.length) return { action: 'none', packages };
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
  const shown = install.join(' ');
  const hint = facts.apt
    ? `${facts.root ? '' : 'sudo '}${shown}`
    : `install ${packages.join(' and ')} with your package manager`;
  const alternatives = 'or start a Docker engine, or set DATABASE_URL and AMQP_URL';
  if (!facts.apt || facts.optOut || !(facts.root || facts.sudo))
    return { action: 'hint', packages, command: hint, message: `run: ${hint}   (${alternatives})` };
  const prefix = facts.root ? [] : ['sudo', '-n'];
  return {
    action: 'install',
    packages,
    command: hint,
    steps: [
      [...prefix, 'apt-get', 'update', '-qq'],
      [...prefix, ...install],
    ],
  };
}

/** The facts serverInstallPlan decides on, read from this machine (Docker and sudo only asked when they matter). */
export async function machineFacts(env = process.env) {
  const facts = {
    urls: Boolean(env.DATABASE_URL && env.AMQP_URL),
    postgres: Boolean(pgBinDir()),
    rabbitmq: exists(path.join(RABBIT_BIN, 'rabbitmq-server')),
    apt: exists('/usr/bin/apt-get') && exists('/etc/debian_version'),
    root: isRoot,
    optOut: Boolean(env.SWITCHBOARD_NO_INSTALL),
    docker: false,
    sudo: false,
  };
  if (facts.urls || (facts.postgres && facts.rabbitmq)) return facts;
  facts.docker = await dockerAvailable();
  facts.sudo = !isRoot && facts.apt && (await run('sudo', ['-n', 'true'], { timeout: 5000 })).code === 0;
  return facts;
}

/**
 * Installs PostgreSQL / RabbitMQ where serverInstallPlan says it can, saying what it installs (apt-get's own
 * output shown). Resolves the plan; throws with the one command to run when it cannot install.
 */
export async function ensureServersInstalled({ log = console.error, env = process.env } = {}) {
  const plan = serverInstallPlan(await machineFacts(env));
  if (plan.action === 'hint')
    throw new Error(`PostgreSQL/RabbitMQ missing (${plan.packages.join(', ')}): ${plan.message}`);
  if (plan.action === 'install') {
    log(`[deps] no Docker engine and no DATABASE_URL/AMQP_URL: installing ${plan.packages.join(' and ')}`);
    for (const step of plan.steps) {
      log(`[deps] ${step.join(' ')}`);
      const r = await new Promise((resolve) => {
        const child = spawn(step[0], step.slice(1), {
          stdio: ['ignore', 'inherit', 'inherit'],
          env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
        });
        child.on('error', (e) => resolve({ code: -1, error: e.message }));
        child.on('close', (code) => resolve({ code }));
      });
      if (r.code !== 0)
        throw new Error(
          `\`${step.join(' ')}\` failed (${r.error ?? `exit ${r.code}`}); run it yourself: ${plan.command}`,
        );
    }
  }
  return plan;
}

export async function ensureStack(opts = {}) {
  const o = withDefaults({ root: process.cwd(), log: console.error, ...opts });
  const { root, log } = o;
  const { DATABASE_URL, AMQP_URL } = process.env;

  if (DATABASE_URL && AMQP_URL) {
    const [ph, pp] = hostPort(DATABASE_URL, 5432);
    const [ah, ap] = hostPort(AMQP_URL, 5672);
    if (!(await pgReady(ph, pp))) throw new Error(`DATABASE_URL: no PostgreSQL answering at ${ph}:${pp}`);
    if (!(await amqpReady(ah, ap))) throw new Error(`AMQP_URL: no AMQP broker answering at ${ah}:${ap}`);
    log(`[stack] using DATABASE_URL/AMQP_URL from the environment`);
    return { databaseUrl: DATABASE_URL, amqpUrl: AMQP_URL, mode: 'env', started: [], stop: async () => {} };
  }

  if (await dockerAvailable()) {
    // Ports are passed to the compose file as PG_PORT / AMQP_PORT.
    const env = { ...process.env, PG_PORT: String(o.pgPort), AMQP_PORT: String(o.amqpPort) };
    const compose = (args) => must('docker', ['compose', ...args], { cwd: root, env, timeout: 300_000 });
    const running = (await compose(['ps', '--status', 'running', '--services']))
      .split('\n')
      .map((s) => s.trim());
    const started = ['postgres', 'rabbitmq'].filter((s) => !running.includes(s));
    log(`[stack] docker compose up -d postgres rabbitmq`);
    await compose(['up', '-d', 'postgres', 'rabbitmq']);
    await waitFor('postgres container', () => pgReady('127.0.0.1', o.pgPort), 120_000);
    await waitFor('rabbitmq container', () => amqpReady('127.0.0.1', o.amqpPort), 120_000);
    const stop = async () => {
      if (started.length) await compose(['stop', ...started]);
    };
    return { databaseUrl: pgUrl(o.pgPort), amqpUrl: amqpUrl(o.amqpPort), mode: 'docker', started, stop };
  }

  if (!pgBinDir() && !exists(path.join(RABBIT_BIN, 'rabbitmq-server'))) {
    throw new Error(`No Docker engine and no local PostgreSQL/RabbitMQ: ${INSTALL_HINT}`);
  }
  return withLock(root, async () => {
    const started = [];
    const stop = async () => {
      await Promise.all([
        started.includes('postgres') && stopPostgres(root),
        started.includes('rabbitmq') && stopRabbit(root),
      ]);
    };
    try {
      if (await pgReady('127.0.0.1', o.pgPort)) {
        // Something listens already: reuse it only if it is ours (accepts our credentials).
        await psql(pgUrl(o.pgPort, 'postgres'), 'SELECT 1').catch((e) => {
          throw new Error(
            `Port ${o.pgPort} is taken by a PostgreSQL that rejects switchboard/switchboard: ${e.message}`,
          );
        });
        await createDatabase(pgUrl(o.pgPort), 'switchboard');
        log(`[stack] reusing postgres on 127.0.0.1:${o.pgPort}`);
      } else {
        await startPostgres(root, o);
        started.push('postgres');
      }
      if (await amqpReady('127.0.0.1', o.amqpPort)) {
        log(`[stack] reusing rabbitmq on 127.0.0.1:${o.amqpPort}`);
      } else {
        await startRabbit(root, o);
        started.push('rabbitmq');
      }
    } catch (e) {
      await stop().catch(() => {}); // don't leave half a stack behind
      throw e;
    }
    return { databaseUrl: pgUrl(o.pgPort), amqpUrl: amqpUrl(o.amqpPort), mode: 'local', started, stop };
  });
}
