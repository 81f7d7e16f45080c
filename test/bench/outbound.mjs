// The outbound phase of `npm run bench` (issue 16): apps/outbound delivering CRM changes as Standard Webhooks
// signed POSTs to a local sink, with signing and the access log on (as in production). N changes of N distinct
// contacts go into the outbox in one statement; the clock runs from that commit until the sink has them all and the
// database says every delivery is delivered. Reported: deliveries/s end to end, sink-side signature failures,
// duplicates (a webhook-id seen twice), access-log rows written, and the app's CPU and peak RSS.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import pg from 'pg';
import { freePort, sleep } from '../support/processes.mjs';

export const OUTBOUND_TARGET = 1000;

/** A sink answering 204 to every correctly signed POST; counts what it saw. */
async function startSink(secret) {
  const key = Buffer.from(secret.slice(6), 'base64');
  const seen = new Set();
  const stats = { received: 0, duplicates: 0, badSignatures: 0, firstAt: 0, lastAt: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = req.headers['webhook-id'];
      const mac = createHmac('sha256', key)
        .update(`${id}.${req.headers['webhook-timestamp']}.${body}`)
        .digest();
      const got = Buffer.from(String(req.headers['webhook-signature'] ?? '').slice(3), 'base64');
      const ok = got.length === mac.length && timingSafeEqual(got, mac);
      if (!ok) stats.badSignatures += 1;
      if (seen.has(id)) stats.duplicates += 1;
      seen.add(id);
      stats.received += 1;
      stats.lastAt = Date.now();
      stats.firstAt ||= stats.lastAt;
      res.writeHead(ok ? 204 : 401).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/hook`, stats, close: () => new Promise((r) => server.close(r)) };
}

/**
 * The floor: the same sink driven by a bare process (global fetch, 128 in flight, signed bodies, no database), so
 * the figure reads against what this machine does right now (it is shared; other load moves both).
 */
function floorRate(url, secret, n) {
  const script = `
    import { createHmac } from 'node:crypto';
    const [url, secret, n] = [process.argv[1], process.argv[2], Number(process.argv[3])];
    const key = Buffer.from(secret.slice(6), 'base64');
    let next = 0; const t0 = Date.now();
    await Promise.all(Array.from({ length: 128 }, async () => {
      while (next < n) {
        const id = 'floor-' + next++; const ts = String(Math.floor(Date.now() / 1000)); const body = JSON.stringify({ type: 'x', i: next });
        const sig = 'v1,' + createHmac('sha256', key).update(id + '.' + ts + '.' + body).digest('base64');
        const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig } });
        await r.arrayBuffer();
      }
    }));
    process.stdout.write(String(Math.round(n / ((Date.now() - t0) / 1000))));`;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script, url, secret, String(n)],
      { timeout: 300_000 },
      (err, out) => (err ? reject(err) : resolve(Number(out))),
    ),
  );
}

/**
 * `deps`: { databaseUrl, appEnv, startApp(name, env), stopProcess, procStats(pid), cli(args, env), count, log }.
 */
export async function runOutbound({
  databaseUrl,
  appEnv,
  startApp,
  stopProcess,
  procStats,
  cli,
  count,
  log,
}) {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const sink = await startSink(secret);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  let app = null;
  try {
    await cli(
      [
        'peers',
        'create',
        '--id',
        'bench-site',
        '--name',
        'Bench site',
        '--kind',
        'website',
        '--outbound-url',
        sink.url,
        '--outbound-events',
        'crm.deal.status_changed',
        '--outbound-secret',
        secret,
      ],
      appEnv,
    );
    const floorCount = Math.min(count, 5000);
    const floor = await floorRate(sink.url, secret, floorCount);
    Object.assign(sink.stats, { received: 0, duplicates: 0, badSignatures: 0, firstAt: 0, lastAt: 0 });
    // In a full run the earlier phases' changes are in this database's outbox, with the gaps their rolled-back
    // transactions left: the webhook reader starts past them (nothing of them is running now), so the phase
    // measures its own changes only.
    await db.query(
      `INSERT INTO crm_change_cursors (consumer, seq)
       SELECT 'webhooks', CASE WHEN is_called THEN last_value ELSE 0 END FROM crm_changes_seq_seq
       ON CONFLICT (consumer) DO UPDATE SET seq = EXCLUDED.seq`,
    );
    const port = await freePort();
    app = await startApp('outbound', {
      ...appEnv,
      OUTBOUND_PORT: String(port),
      OUTBOUND_POLL_INTERVAL_MS: '20',
    });
    await db.query(`DELETE FROM access_log WHERE service = 'outbound.webhook'`);
    const before = procStats(app.pid);
    const t0 = Date.now();
    // One statement: the changes commit together, as a burst of deal status changes would.
    await db.query(
      `INSERT INTO crm_changes (type, aggregate_key, contact_id, deal_id, payload, occurred_at)
       SELECT 'crm.deal.status_changed', 'contact:' || c, c, d,
              jsonb_build_object('dealId', d, 'siteOrderId', 'B-' || i, 'status', 'shipped', 'previousStatus', 'paid',
                                 'contactId', c, 'occurredAt', now()), now()
         FROM generate_series(1, $1) i,
              -- one contact and one deal per change (distinct, so none supersedes or waits for another)
              LATERAL (SELECT md5('c' || i || $2)::uuid c, md5('d' || i || $2)::uuid d) g`,
      [count, randomBytes(8).toString('hex')],
    );
    let peakRss = 0;
    const deadline = Date.now() + Math.max(120_000, count * 5);
    while (sink.stats.received < count && Date.now() < deadline) {
      peakRss = Math.max(peakRss, procStats(app.pid)?.rss ?? 0);
      await sleep(100);
    }
    const delivered = async () =>
      Number(
        (await db.query(`SELECT count(*) n FROM outbound_deliveries WHERE status = 'delivered'`)).rows[0].n,
      );
    let recorded = await delivered();
    while (recorded < count && Date.now() < deadline) {
      await sleep(100);
      recorded = await delivered();
    }
    const seconds = ((sink.stats.lastAt || Date.now()) - t0) / 1000;
    const after = procStats(app.pid);
    await sleep(1500); // the access log flushes every 200 ms
    const logged = Number(
      (
        await db.query(
          `SELECT count(*) n FROM access_log WHERE service = 'outbound.webhook' AND direction = 'outbound'`,
        )
      ).rows[0].n,
    );
    const result = {
      changes: count,
      received: sink.stats.received,
      recordedDelivered: recorded,
      duplicates: sink.stats.duplicates,
      badSignatures: sink.stats.badSignatures,
      accessLogRows: logged,
      seconds: Math.round(seconds * 100) / 100,
      deliveriesPerSecond: Math.round(sink.stats.received / seconds),
      cpuSeconds: before && after ? Math.round((after.cpuSeconds - before.cpuSeconds) * 10) / 10 : null,
      peakRssMB: Math.round(peakRss / 2 ** 20),
      floorPerSecond: floor,
      ratioToFloor: Math.round((sink.stats.received / seconds / floor) * 100) / 100,
      target: OUTBOUND_TARGET,
    };
    log(`outbound: ${JSON.stringify(result)}`);
    return result;
  } finally {
    if (app) await stopProcess(app);
    await db.end();
    await sink.close();
  }
}

export function outboundMarkdown(o) {
  if (!o) return '';
  const pass =
    o.deliveriesPerSecond >= o.target && o.received === o.changes && !o.duplicates && !o.badSignatures;
  return [
    '',
    '## Outbound webhooks (apps/outbound -> local sink, signed, access log on)',
    '',
    '| changes | delivered/s | floor/s (bare fetch) | ratio | seconds | received | recorded delivered | duplicates | bad signatures | access-log rows | CPU s | peak RSS MB | target |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${o.changes} | **${o.deliveriesPerSecond}** | ${o.floorPerSecond} | ${o.ratioToFloor} | ${o.seconds} | ${o.received} | ${o.recordedDelivered} | ${o.duplicates} | ${o.badSignatures} | ${o.accessLogRows} | ${o.cpuSeconds} | ${o.peakRssMB} | ≥ ${o.target}/s ${pass ? 'met' : 'NOT met'} |`,
  ].join('\n');
}
