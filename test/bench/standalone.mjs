// What the standalone measurement scripts (cpu-per-request.mjs, connector-drain.mjs) share: they run against an
// ALREADY RUNNING stack (DATABASE_URL and AMQP_URL set), each in a database and AMQP namespace of its own with a
// bench website peer, and post orders made from the sample by a number new in the run.
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase } from '../../config/stack/stack.mjs';

export const ROOT = join(import.meta.dirname, '../..');

/** `--name value` of the command line, or `dflt`. */
export function flags(args = process.argv.slice(2)) {
  return {
    args,
    flag: (name, dflt) => {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? args[i + 1] : dflt;
    },
  };
}

/** A user+system CPU reading of a process from /proc (0 once it is gone). */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(stat[11]) + Number(stat[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident set size of a process, bytes. */
export const rssOf = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

/** Order bodies from test/fixtures/website/order.sample.json, each with its own external id, phone and email. */
export function orderBodies(prefix) {
  const sample = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/website/order.sample.json'), 'utf8'));
  let seq = 0;
  return () => {
    const n = String(++seq).padStart(7, '0');
    return JSON.stringify({
      ...sample,
      externalId: `${prefix}-${n}`,
      customer: {
        name: 'Bench Customer',
        phone: `+7916${n}`,
        email: `${prefix.toLowerCase()}${n}@bench.example`,
      },
    });
  };
}

/**
 * A database `sb_<ns>` (migrated by createDatabase) on the running stack, the apps' environment for it (namespace
 * `ns`, fresh pepper and master key) and a website peer's bearer token; `cleanup()` deletes the namespace's queues
 * and (unless keepDb) the database.
 */
export async function benchEnvironment(prefix, { keepDb = false, env: extra = {} } = {}) {
  const { DATABASE_URL, AMQP_URL } = process.env;
  if (!DATABASE_URL || !AMQP_URL) throw new Error('set DATABASE_URL and AMQP_URL to a running stack');
  const runId = randomBytes(3).toString('hex');
  const ns = `${prefix}${runId}`;
  const databaseUrl = await createDatabase(DATABASE_URL, `sb_${ns}`);
  const env = {
    SWITCHBOARD_PEPPER: randomBytes(32).toString('base64'),
    SWITCHBOARD_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    DATABASE_URL: databaseUrl,
    AMQP_URL,
    AMQP_NAMESPACE: ns,
    LOG_LEVEL: 'warn',
    ...extra,
  };
  const out = await new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [
        join(ROOT, 'dist/apps/console/src/cli.js'),
        'peers',
        'create',
        '--id',
        `${prefix}-shop`,
        '--name',
        prefix,
      ].concat(['--kind', 'website', '--scopes', 'website.*', '--rate-limit', '10000000', '--json']),
      { env: { ...process.env, ...env }, cwd: ROOT, timeout: 120_000 },
      (e, stdout, stderr) => (e ? reject(new Error(stderr || e.message)) : resolve(stdout)),
    ),
  );
  const token = JSON.parse(out).credential.token;
  const cleanup = async () => {
    const conn = await amqp.connect(AMQP_URL).catch(() => null);
    if (conn) {
      const ch = await conn.createChannel();
      for (const app of ['website-connector', 'telephony-connector', 'erp-connector'])
        await ch.deleteQueue(`${ns}.${app}`).catch(() => undefined);
      await conn.close().catch(() => undefined);
    }
    if (keepDb) return;
    const admin = new pg.Client({ connectionString: DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "sb_${ns}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  };
  return { runId, ns, databaseUrl, env, token, cleanup };
}
