#!/usr/bin/env node
/**
 * Web console pages under a realistic CRM (issue 17, performance): 100,000 contacts (one lead and one deal
 * each), 1,000,000 calls (ten per contact, over the last 60 days), 200,000 processed events and 200,000
 * access-log rows over the last day, all inserted set-based (INSERT ... SELECT generate_series). Then one
 * console, and sequential GETs, as a signed-in operator sends them (here with the break-glass ADMIN_TOKEN as a Bearer token), of the
 * dashboard, the leads inbox (new leads, newest first) and contact cards (a different contact each time).
 * PASS when each page's p95 is ≤ CONSOLE_PAGES_LIMIT_MS (300).
 *
 *   DATABASE_URL=postgres://… AMQP_URL=amqp://… node test/bench/console-pages.mjs [--keep-db]
 *   CONSOLE_BENCH_DB=sb_cpages… node test/bench/console-pages.mjs   # measure again on a kept database (migrated, not re-seeded)
 *
 * Runs against the servers it is given (never starts or stops them); its database is dropped at the end
 * unless --keep-db. Results go to stdout and .data/bench/console-pages.json.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase } from '../../config/stack/stack.mjs';
import { freePort, sleep, spawnLogged, stopProcess, waitHealthy } from '../support/processes.mjs';

const ROOT = join(import.meta.dirname, '../..');
const CONTACTS = Number(process.env.CONSOLE_BENCH_CONTACTS ?? 100_000);
const CALLS_PER_CONTACT = 10;
const EVENTS = 200_000;
const REQUESTS = Number(process.env.CONSOLE_BENCH_REQUESTS ?? 200);
const WARMUP = 20;
const LIMIT_MS = Number(process.env.CONSOLE_PAGES_LIMIT_MS ?? 300);
const KEEP = process.argv.includes('--keep-db');
const log = (m) => console.error(`[console-pages] ${m}`);

const baseUrl = process.env.DATABASE_URL;
const amqpUrl = process.env.AMQP_URL;
if (!baseUrl || !amqpUrl) {
  console.error('Set DATABASE_URL and AMQP_URL (the servers to run against).');
  process.exit(2);
}

const SEED = [
  // Managers, the peer the rows name.
  `INSERT INTO managers (name, extension) SELECT 'Manager ' || i, (100 + i)::text FROM generate_series(1, 10) i`,
  // Contacts: a phone and an email each; created over the last 90 days.
  `INSERT INTO contacts (id, name, phones, emails, source, created_at, updated_at)
   SELECT md5('c' || i)::uuid, 'Contact ' || i, ARRAY['+7916' || lpad(i::text, 7, '0')],
          ARRAY['c' || i || '@example.com'], 'website', now() - (i % 90) * interval '1 day' - i * interval '1 second',
          now()
     FROM generate_series(1, $1::int) i`,
  `INSERT INTO contact_identities (kind, value, contact_id)
   SELECT 'phone', '+7916' || lpad(i::text, 7, '0'), md5('c' || i)::uuid FROM generate_series(1, $1::int) i`,
  // One lead per contact: a tenth still new, the rest in progress or closed.
  `INSERT INTO leads (name, phone, email, source_channel, status, responsible_manager_id, peer_id, created_at, updated_at,
                      converted_contact_id)
   SELECT 'Contact ' || i, '+7916' || lpad(i::text, 7, '0'), 'c' || i || '@example.com', 'website:shop',
          (ARRAY['new', 'in_progress', 'converted', 'refused', 'in_progress', 'converted', 'converted', 'refused', 'in_progress', 'converted'])[i % 10 + 1],
          CASE WHEN i % 10 = 0 THEN NULL ELSE (SELECT id FROM managers ORDER BY name LIMIT 1) END,
          'shop', now() - i * interval '30 seconds', now(),
          CASE WHEN i % 10 IN (2, 5, 6, 9) THEN md5('c' || i)::uuid END
     FROM generate_series(1, $1::int) i`,
  // One deal per contact.
  `INSERT INTO deals (peer_id, external_id, contact_id, title, status, amount, currency, source_created_at,
                      source_updated_at, last_event_id)
   SELECT 'shop', 'ORD-' || i, md5('c' || i)::uuid, 'Order ' || i, 'new', 1000 + i % 5000, 'RUB',
          now() - (i % 90) * interval '1 day', now(), md5('e' || i)::uuid
     FROM generate_series(1, $1::int) i`,
  // Ten calls per contact over the last 60 days, a recording on the answered ones.
  `INSERT INTO call_logs (peer_id, provider, call_key, provider_call_id, direction, from_number, to_number,
                          customer_phone, contact_id, status, started_at, answered_at, ended_at, wait_seconds,
                          talk_seconds, disposition, recording_url, event_count)
   SELECT 'pbx', 'generic', 'k' || n, 'call-' || n, CASE WHEN n % 3 = 0 THEN 'outbound' ELSE 'inbound' END,
          '+7916' || lpad((n % $1 + 1)::text, 7, '0'), '101', '+7916' || lpad((n % $1 + 1)::text, 7, '0'),
          md5('c' || (n % $1 + 1))::uuid, 'completed', now() - (n % 86400) * interval '60 seconds',
          CASE WHEN n % 4 <> 0 THEN now() - (n % 86400) * interval '60 seconds' + interval '5 seconds' END,
          now() - (n % 86400) * interval '60 seconds' + interval '2 minutes', 5,
          CASE WHEN n % 4 <> 0 THEN 115 END, CASE WHEN n % 4 <> 0 THEN 'answered' ELSE 'missed' END,
          CASE WHEN n % 4 <> 0 THEN 'https://pbx.example.com/rec/' || n || '.mp3' END, 2
     FROM generate_series(0, $1::int * ${CALLS_PER_CONTACT} - 1) n`,
  // What flowed: processed events and gateway calls over the last day.
  `INSERT INTO processed_events (consumer, event_id, peer_id, idempotency_key, event_type, outcome, processed_at)
   SELECT 'website-connector', md5('pe' || i)::uuid, 'shop', 'k' || i, 'website.order.submitted', 'applied',
          now() - (i % 86400) * interval '1 second'
     FROM generate_series(1, ${EVENTS}) i`,
  `INSERT INTO access_log (id, direction, peer_id, service, method, started_at, duration_ms, result, http_status)
   SELECT md5('al' || i)::uuid, 'inbound', 'shop', 'POST /v1/website/orders', 'POST',
          now() - (i % 86400) * interval '1 second', 3.5, CASE WHEN i % 50 = 0 THEN 'rejected' ELSE 'accepted' END,
          CASE WHEN i % 50 = 0 THEN 400 ELSE 202 END
     FROM generate_series(1, ${EVENTS}) i`,
];

function cli(args, env) {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [join(ROOT, 'dist/apps/console/src/cli.js'), ...args, '--json'],
      { env, cwd: ROOT },
      (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)),
    ),
  );
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function measure(name, urlFor, authorization) {
  const times = [];
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const t = performance.now();
    const res = await fetch(urlFor(i), { headers: { authorization } });
    const body = await res.text();
    const ms = performance.now() - t;
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${body.slice(0, 300)}`);
    if (i >= WARMUP) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return {
    page: name,
    requests: REQUESTS,
    p50: r(pct(times, 50)),
    p95: r(pct(times, 95)),
    p99: r(pct(times, 99)),
    max: r(times.at(-1)),
  };
}

async function main() {
  const reuse = process.env.CONSOLE_BENCH_DB;
  const ns = reuse ? reuse.replace(/^sb_/, '') : `cpages${randomBytes(3).toString('hex')}`;
  const dbName = `sb_${ns}`;
  const url = reuse
    ? Object.assign(new URL(baseUrl), { pathname: `/${dbName}` }).toString()
    : await createDatabase(baseUrl, dbName);
  const adminToken = randomBytes(24).toString('base64url');
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    SWITCHBOARD_CONFIG_DIR: join(ROOT, 'config'),
    DATABASE_URL: url,
    AMQP_URL: amqpUrl,
    AMQP_NAMESPACE: ns,
    ADMIN_TOKEN: adminToken,
    SWITCHBOARD_PEPPER: randomBytes(32).toString('base64'),
    SWITCHBOARD_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'warn',
  };
  let app = null;
  const db = new pg.Client({ connectionString: url });
  try {
    await cli(['migrate'], env);
    await db.connect();
    const t0 = Date.now();
    for (const sql of reuse ? [] : SEED) {
      const t = Date.now();
      await db.query(sql, sql.includes('$1') ? [CONTACTS] : []);
      log(`${sql.trim().split('\n')[0].slice(0, 60)}… ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    await db.query('ANALYZE');
    const seedSeconds = (Date.now() - t0) / 1000;
    const [{ calls }] = (await db.query(`SELECT count(*)::int AS calls FROM call_logs`)).rows;
    log(`seeded ${CONTACTS} contacts, ${calls} calls in ${seedSeconds.toFixed(0)} s`);

    const port = await freePort();
    const logDir = join(ROOT, '.data/bench');
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, 'console-pages-console.log');
    app = spawnLogged([join(ROOT, 'dist/apps/console/src/main.js')], {
      env: { ...env, CONSOLE_PORT: String(port), CONSOLE_METRICS_PORT: String(await freePort()) },
      cwd: ROOT,
      logFile,
    });
    const site = `http://127.0.0.1:${port}`;
    await waitHealthy(app, site, { name: 'console', logFile });
    await sleep(2000); // its start-up maintenance pass and first alert round, out of the way
    const auth = `Bearer ${adminToken}`;
    // Contact ids as the seed made them: md5('c' || i)::uuid, i spread over the whole range.
    const ids = (
      await db.query(`SELECT md5('c' || i)::uuid AS id FROM generate_series(1, $1::int, $1::int / 250) i`, [
        CONTACTS,
      ])
    ).rows.map((r) => r.id);
    const results = [
      await measure('dashboard', () => `${site}/console/`, auth),
      await measure('leads inbox', () => `${site}/console/leads`, auth),
      await measure('contact card', (i) => `${site}/console/contacts/${ids[i % ids.length]}`, auth),
    ];
    const out = {
      contacts: CONTACTS,
      calls,
      seedSeconds: reuse ? null : Math.round(seedSeconds),
      limitMs: LIMIT_MS,
      results,
      pass: results.every((r) => r.p95 <= LIMIT_MS),
      at: new Date().toISOString(),
    };
    writeFileSync(join(logDir, 'console-pages.json'), JSON.stringify(out, null, 2));
    console.log(JSON.stringify(out, null, 2));
    if (!out.pass) process.exitCode = 1;
  } finally {
    await stopProcess(app);
    await db.end().catch(() => undefined);
    if (!KEEP && !reuse) {
      const admin = new pg.Client({ connectionString: baseUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    } else log(`kept database ${dbName} (drop it when done)`);
  }
}

main().catch((err) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
