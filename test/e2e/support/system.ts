import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { Client } from 'pg';
import type { AppManifestEntry } from '@switchboard/config';

export const ROOT = join(__dirname, '../../..');
/** V8 heap flags every app runs with in production (config/scripts/v8-flags.mjs reads the same file). */
const APP_V8_FLAGS: string[] = JSON.parse(readFileSync(join(ROOT, 'config/scripts/v8-flags.json'), 'utf8'));
/** The process environment every app starts with (config/scripts/app-env.json, as start.mjs and the image). */
const APP_ENV: Record<string, string> = JSON.parse(
  readFileSync(join(ROOT, 'config/scripts/app-env.json'), 'utf8'),
);
/** An app of config/apps.json (the one list of apps); an unknown name fails when started. */
export type AppName = string;
const MANIFEST = (
  JSON.parse(readFileSync(join(ROOT, 'config/apps.json'), 'utf8')) as { apps: AppManifestEntry[] }
).apps;
const manifestEntry = (app: AppName) => {
  const entry = MANIFEST.find((a) => a.name === app);
  if (!entry) throw new Error(`no app "${app}" in config/apps.json`);
  return entry;
};
/** Connectors fed by the broker: the apps whose queue binds routing keys. */
const QUEUE_APPS = MANIFEST.filter((a) => a.bindings.length > 0).map((a) => a.name);

/** Ports handed out in this process: the kernel may offer a port again once it is free. */
const handedOut = new Set<number>();

/**
 * A TCP port free on loopback now and never handed out before in this test process: two asks can get the same
 * port from the kernel, and two apps of one suite on one port made a suite talk to the wrong app (CI once:
 * the console's EADDRINUSE, its requests answered 404/405 by another app).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until fn returns a truthy value and returns it; throws when the time is up. A wait is an assertion:
 * its result cannot be discarded by mistake (a test that "waited" for something that never happened fails).
 */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!last && Date.now() < deadline) {
    await sleep(everyMs);
    last = await fn();
  }
  if (!last) {
    const what = fn.toString().replace(/\s+/g, ' ').slice(0, 300);
    throw new Error(`not true within ${timeoutMs} ms (last value: ${String(last)}): ${what}`);
  }
  return last;
}

async function createDatabase(baseUrl: string, name: string): Promise<string> {
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Whether process `pid` holds the listening socket of `port` (Linux: /proc/net/tcp{,6} and the process's fds). A 200
 * on /health from some other process listening there (a port the kernel handed out again, an app of an earlier
 * suite still stopping) must not count as this app being ready. Where /proc cannot tell, it says yes.
 */
export function listensOn(pid: number, port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st ... inode: LISTEN is st 0A
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && f[1].endsWith(hex)) inodes.add(f[9]);
    }
  }
  if (!readable) return true;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      return m !== null && inodes.has(m[1]);
    } catch {
      return false;
    }
  });
}

export class RunningApp {
  private exited: Promise<number | null>;
  /** Everything the process wrote to stdout and stderr (also in .data/test-logs), for assertions on its log. */
  output = '';
  constructor(
    readonly name: AppName,
    readonly port: number,
    public proc: ChildProcess,
    /** The metrics listener's port (/metrics, detailed /health); the app's own port for connectors. */
    readonly metricsPort = port,
  ) {
    // 'close', not 'exit': by then stdout and stderr are read to the end, so `output` is complete.
    this.exited = new Promise((r) => proc.once('close', (code) => r(code)));
    const keep = (d: Buffer) => {
      this.output += d.toString();
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

/**
 * A whole Switchboard on real servers, per suite: its own database and its own broker namespace, the real
 * built apps as child processes (so a SIGKILL is a real SIGKILL). Logs go to .data/test-logs/.
 */
export class TestSystem {
  readonly namespace = `t${randomBytes(4).toString('hex')}`;
  readonly adminToken = randomBytes(24).toString('hex');
  /** Issued by `cli peers create` at start: a real credential of the peer `shop-test`. */
  peerKey = '';
  readonly peerId = 'shop-test';
  readonly pepper = randomBytes(32).toString('base64');
  readonly masterKeys = `k1:${randomBytes(32).toString('base64')}`;
  databaseUrl = '';
  readonly apps = new Map<AppName, RunningApp>();
  private db: Client | null = null;
  private ports = new Map<AppName, number>();
  private metricsPorts = new Map<AppName, number>();

  constructor(
    private readonly suite: string,
    private readonly extraEnv: Record<string, string> = {},
    /** The servers to run on; by default the run's (jest global setup). Outage suites pass their own. */
    private readonly servers: { postgres?: PrivateServer; rabbitmq?: PrivateServer } = {},
  ) {}

  get amqpUrl(): string {
    return this.servers.rabbitmq?.url || process.env.TEST_AMQP_URL!;
  }

  private get serverDatabaseUrl(): string {
    return this.servers.postgres?.url || process.env.TEST_DATABASE_URL!;
  }

  async start(apps: AppName[] = ['gateway', 'website-connector', 'console']): Promise<this> {
    this.databaseUrl = await createDatabase(this.serverDatabaseUrl, `sb_${this.namespace}`);
    const created = await this.cli(
      'peers',
      'create',
      '--id',
      this.peerId,
      '--name',
      'Test shop',
      '--kind',
      'website',
      '--scopes',
      'website.*',
    );
    this.peerKey = created.credential.token;
    await Promise.all(apps.map((a) => this.startApp(a)));
    return this;
  }

  env(app: AppName): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      SWITCHBOARD_CONFIG_DIR: join(ROOT, 'config'),
      DATABASE_URL: this.databaseUrl,
      AMQP_URL: this.amqpUrl,
      AMQP_NAMESPACE: this.namespace,
      ADMIN_TOKEN: this.adminToken,
      SWITCHBOARD_PEPPER: this.pepper,
      SWITCHBOARD_MASTER_KEYS: this.masterKeys,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...(this.ports.has(app) ? { [manifestEntry(app).portEnv]: String(this.ports.get(app)) } : {}),
      ...(this.metricsPorts.has(app)
        ? { [manifestEntry(app).metricsPortEnv!]: String(this.metricsPorts.get(app)) }
        : {}),
      ...this.extraEnv,
    };
  }

  async startApp(app: AppName, overrides: Record<string, string | undefined> = {}): Promise<RunningApp> {
    const entry = manifestEntry(app);
    if (!this.ports.has(app)) this.ports.set(app, await freePort());
    if (entry.metricsPortEnv && !this.metricsPorts.has(app)) this.metricsPorts.set(app, await freePort());
    const port = this.ports.get(app)!;
    const logDir = join(ROOT, '.data', 'test-logs');
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(join(logDir, `${this.suite}-${app}.log`), { flags: 'a' });
    // The production heap limits (config/scripts/v8-flags.json, as start.mjs and the Docker image use), so a
    // big import runs under the real limit here too.
    const proc = spawn(process.execPath, [...APP_V8_FLAGS, join(ROOT, 'dist/apps', app, 'src/main.js')], {
      env: { ...APP_ENV, ...this.env(app), ...overrides },
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.pipe(log);
    proc.stderr.pipe(log);
    const running = new RunningApp(app, port, proc, this.metricsPorts.get(app));
    this.apps.set(app, running);
    const ready = await eventually(async () => {
      if (proc.exitCode !== null) throw new Error(`${app} exited with ${proc.exitCode}; see .data/test-logs`);
      const res = await fetch(`${running.url}${entry.health.path}`).catch(() => null);
      return res?.status === 200 && listensOn(proc.pid!, port);
    }, 60_000);
    if (!ready) throw new Error(`${app} not ready within 60 s; see .data/test-logs/${this.suite}-${app}.log`);
    return running;
  }

  app(name: AppName): RunningApp {
    const a = this.apps.get(name);
    if (!a) throw new Error(`${name} not started`);
    return a;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.apps.values()].map((a) => a.kill('SIGTERM')));
    await this.db?.end().catch(() => undefined);
    this.db = null;
  }

  /** Stops the apps and removes what the suite created: its queues, its exchange and its database. */
  async destroy(): Promise<void> {
    await this.stop();
    await this.withChannel(async (ch) => {
      for (const q of await this.queueNames()) await ch.deleteQueue(q);
      await ch.deleteExchange(`${this.namespace}.events`);
    }).catch(() => undefined);
    const admin = new Client({ connectionString: this.serverDatabaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS sb_${this.namespace} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }

  private async queueNames(): Promise<string[]> {
    const { loadConfig } = await import('@switchboard/config');
    const delays = loadConfig(
      { ...process.env, NODE_ENV: 'test', SWITCHBOARD_CONFIG_DIR: join(ROOT, 'config') },
      ['amqp'],
    ).amqp.retryDelaysMs;
    return QUEUE_APPS.flatMap((c) => [
      `${this.namespace}.${c}`,
      `${this.namespace}.${c}.dlq`,
      ...delays.map((d) => `${this.namespace}.${c}.retry.${d}ms`),
    ]);
  }

  /** Direct SQL for assertions (the DB is the ground truth). */
  async sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    if (!this.db) {
      this.db = new Client({ connectionString: this.databaseUrl });
      await this.db.connect();
    }
    return (await this.db.query(text, params)).rows as T[];
  }

  /** Posts a site order (202 expected) and waits for its deal. */
  async placeOrder(o: Record<string, unknown>): Promise<{ id: string; contact_id: string }> {
    const res = await this.post('/v1/website/orders', o);
    if (res.status !== 202) throw new Error(`order ${String(o.externalId)}: ${res.status}`);
    return eventually(async () => {
      const [d] = await this.sql<{ id: string; contact_id: string }>(
        `SELECT id, contact_id FROM deals WHERE external_id = $1`,
        [o.externalId],
      );
      return d;
    });
  }

  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.app('gateway').url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.peerKey}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  async consoleGet(path: string): Promise<{ status: number; body: any }> {
    return this.consoleCall('GET', path);
  }

  async consoleCall(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.app('console').url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  /** Runs the operator CLI (dist/apps/console/src/cli.js) against this system; returns its JSON output. */
  async cli(...args: string[]): Promise<any> {
    const { execFile } = await import('node:child_process');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [join(ROOT, 'dist/apps/console/src/cli.js'), ...args, '--json'],
        { env: this.env('console'), cwd: ROOT, timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)),
      ),
    );
    return JSON.parse(out);
  }

  queue(
    name: 'website-connector' | 'telephony-connector' | 'erp-connector',
    kind: 'main' | 'dlq' = 'main',
  ): string {
    return kind === 'main' ? `${this.namespace}.${name}` : `${this.namespace}.${name}.dlq`;
  }

  /** Runs fn with a short-lived AMQP channel (for queue depth checks, raw publishes, DLQ reads). */
  async withChannel<T>(fn: (ch: amqp.Channel) => Promise<T>): Promise<T> {
    const conn = await amqp.connect(this.amqpUrl);
    try {
      const ch = await conn.createChannel();
      return await fn(ch);
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  /** Messages a connector finished so far, by outcome (ok / retry / dead-letter), from its /metrics. */
  async consumed(app: 'website-connector' | 'telephony-connector'): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.app(app).url}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^switchboard_consumed_total\{([^}]*)\} (\d+)/gm)) {
      const outcome = /outcome="([^"]*)"/.exec(m[1])![1];
      out[outcome] = (out[outcome] ?? 0) + Number(m[2]);
    }
    return out;
  }

  /**
   * Waits until the connector has finished `n` more messages successfully than `before` (from consumed()), so a
   * test can then assert that those messages changed nothing, rather than sleeping and hoping they ran.
   */
  async consumedOk(
    app: 'website-connector' | 'telephony-connector',
    before: Record<string, number>,
    n: number,
  ) {
    const target = (before.ok ?? 0) + n;
    let last: Record<string, number> = {};
    await eventually(async () => ((last = await this.consumed(app)).ok ?? 0) >= target, 30_000).catch(() => {
      throw new Error(
        `${app} consumed ${JSON.stringify(last)}; expected ${n} more ok than ${JSON.stringify(before)}`,
      );
    });
  }

  /**
   * Publishes raw messages on a confirm channel and waits for the broker's confirms, so they are queued when this
   * resolves (a plain channel closed right after publish() can drop what it had not written yet).
   */
  async publishRaw(
    messages: Array<{
      exchange?: string;
      routingKey: string;
      content: Buffer | string;
      options?: amqp.Options.Publish;
    }>,
  ): Promise<void> {
    const conn = await amqp.connect(this.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      for (const m of messages) {
        const content = typeof m.content === 'string' ? Buffer.from(m.content) : m.content;
        ch.publish(m.exchange ?? `${this.namespace}.events`, m.routingKey, content, {
          persistent: true,
          ...m.options,
        });
      }
      await ch.waitForConfirms();
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  async queueDepth(name: string): Promise<number> {
    return this.withChannel(async (ch) => (await ch.checkQueue(name)).messageCount);
  }
}

/** test/fixtures/website/order.sample.json, shared with the benchmark. */
const SAMPLE_ORDER: unknown = JSON.parse(
  readFileSync(join(ROOT, 'test/fixtures/website/order.sample.json'), 'utf8'),
);
let orderSeq = 0;
/** A valid website order; override any field. */
export function order(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  orderSeq += 1;
  const n = String(Date.now()).slice(-6) + String(orderSeq).padStart(4, '0');
  return {
    ...(structuredClone(SAMPLE_ORDER) as Record<string, unknown>),
    externalId: `ORD-${n}`,
    customer: { name: 'Anna Petrova', phone: `+7912${n.slice(-7)}`, email: `anna${n}@example.com` },
    ...overrides,
  };
}

/** Calls one of config/stack/stack.mjs's exports in a child process (it is ESM; jest runs CommonJS). */
async function stackCall(fn: string, ...args: unknown[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('./config/stack/stack.mjs');` +
          `const r = await m.${fn}(...JSON.parse(process.argv[1])); process.stdout.write(JSON.stringify(r ?? null));`,
        JSON.stringify(args),
      ],
      { cwd: ROOT, timeout: 180_000 },
      (err, out, stderr) =>
        err ? reject(new Error(`${fn} failed: ${stderr || err.message}`)) : resolve(out),
    ),
  );
}

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/** The shared development servers (HELPERS/README): a suite that stops servers must never touch these. */
const SHARED_PORTS = [55432, 55672, 55673, 55674];

/**
 * A PostgreSQL or RabbitMQ of one suite's own, under .data/private/<suite>, on free ports (RabbitMQ: a port whose
 * next two, Erlang distribution and management, are free too; config/stack names the node after its port, so it
 * never clashes with the shared node). The outage suites stop and start these, in every stack mode (env URLs,
 * Docker or local), so the guarantees they prove are never skipped and the servers other suites use never stop.
 * They need the locally installed servers; without them the suite fails, naming what to install.
 */
export class PrivateServer {
  readonly root: string;
  port = 0;
  url = '';

  constructor(
    readonly kind: 'postgres' | 'rabbitmq',
    suite: string,
  ) {
    this.root = join(ROOT, '.data', 'private', suite);
  }

  async start(): Promise<string> {
    if (!this.port) this.port = await this.freePorts();
    if (SHARED_PORTS.includes(this.port)) throw new Error(`refusing the shared port ${this.port}`);
    mkdirSync(this.root, { recursive: true });
    const fn = this.kind === 'postgres' ? 'startPostgres' : 'startRabbit';
    const opts = this.kind === 'postgres' ? { pgPort: this.port } : { amqpPort: this.port };
    const url = JSON.parse(await stackCall(fn, this.root, opts)) as string;
    // startPostgres returns the URL of its `switchboard` database; TestSystem creates its own next to it.
    this.url = url;
    return url;
  }

  async stop(): Promise<void> {
    await stackCall(this.kind === 'postgres' ? 'stopPostgres' : 'stopRabbit', this.root);
  }

  /** rabbitmqctl against this node (its node name and Erlang cookie live under its root). */
  async rabbitmqctl(...args: string[]): Promise<string> {
    const { execFile } = await import('node:child_process');
    const home = join(this.root, '.data/rabbitmq');
    const node = readFileSync(join(home, 'nodename'), 'utf8').trim();
    return new Promise((resolve, reject) =>
      execFile(
        '/usr/lib/rabbitmq/bin/rabbitmqctl',
        ['-n', node, ...args],
        { env: { ...process.env, HOME: home }, timeout: 60_000 },
        (err, out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(out)),
      ),
    );
  }

  private async freePorts(): Promise<number> {
    if (this.kind === 'postgres') {
      for (;;) {
        const p = await freePort();
        if (!SHARED_PORTS.includes(p)) return p;
      }
    }
    for (let base = 57_000 + Math.floor(Math.random() * 300) * 3; base < 62_000; base += 3) {
      if ((await portFree(base)) && (await portFree(base + 1)) && (await portFree(base + 2))) return base;
    }
    throw new Error('no three free ports for a private RabbitMQ');
  }
}

/** Runs tasks with at most `limit` in flight. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}
