import { join } from 'node:path';
import { eventually, order, pool, ROOT, TestSystem } from './support/system';

/**
 * Invariant 2 under a graceful stop: SIGTERM the connector mid-backlog. The handlers in flight commit and are
 * acked before the connection closes, so at exit every message is either committed (and gone from the queue)
 * or back on the queue untouched: committed + queued = sent. A message committed but not acked would be
 * redelivered and make the sum exceed what was sent; one acked but not committed would make it fall short.
 */
describe('connector SIGTERM mid-processing', () => {
  const sys = new TestSystem('connector-shutdown', {
    AMQP_PREFETCH: '200',
    WEBSITE_CONNECTOR_PREFETCH: '200',
    LOG_LEVEL: 'info',
  });
  const TOTAL = 1500;

  beforeAll(() => sys.start(['gateway']));
  afterAll(() => sys.destroy());

  const count = async (sql: string) => Number((await sys.sql<{ n: string }>(sql))[0].n);
  const queued = async () => {
    const { loadConfig } = await import('@switchboard/config');
    const delays = loadConfig({ NODE_ENV: 'test', SWITCHBOARD_CONFIG_DIR: join(ROOT, 'config') }, ['amqp'])
      .amqp.retryDelaysMs;
    const main = sys.queue('website-connector');
    let n = 0;
    for (const q of [
      main,
      ...delays.map((d) => `${main}.retry.${d}ms`),
      sys.queue('website-connector', 'dlq'),
    ])
      n += await sys.queueDepth(q);
    return n;
  };

  it('commits and acks what it started, so nothing committed is redelivered', async () => {
    const orders = Array.from({ length: TOTAL }, () => order());
    const statuses = await pool(
      TOTAL,
      32,
      async (i) => (await sys.post('/v1/website/orders', orders[i])).status,
    );
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    const connector = await sys.startApp('website-connector');

    const started = await eventually(
      async () => (await count('SELECT count(*) n FROM processed_events')) >= 50,
      30_000,
      20,
    );
    expect(started).toBe(true);
    const exitCode = await connector.kill('SIGTERM');
    expect({ exitCode, signal: connector.proc.signalCode }).toEqual({ exitCode: 0, signal: null });
    expect(connector.output).toContain('HTTP server closed: every request in flight was answered');

    const committed = await count('SELECT count(*) n FROM processed_events');
    expect(committed).toBeLessThan(TOTAL); // it really was stopped mid-backlog
    expect(await count(`SELECT count(*) n FROM processed_events WHERE outcome <> 'created'`)).toBe(0);
    // By id: no event both committed and back on the queue (read without acking; closing the channel requeues).
    const queuedIds = await sys.withChannel(async (ch) => {
      const ids: string[] = [];
      for (
        let m = await ch.get(sys.queue('website-connector'));
        m;
        m = await ch.get(sys.queue('website-connector'))
      )
        ids.push(String(m.properties.messageId));
      return ids;
    });
    const committedAndQueued = await sys.sql<{ event_id: string; processed_at: Date }>(
      `SELECT event_id, processed_at FROM processed_events WHERE event_id::text = ANY($1)`,
      [queuedIds],
    );
    expect(committedAndQueued).toEqual([]);

    // The broker returns unacked messages to the queue when the connection closes; give it a moment to count.
    const balanced = await eventually(async () => committed + (await queued()) === TOTAL, 10_000, 200).catch(
      () => false,
    );
    expect({ committed, queued: await queued(), sent: TOTAL, balanced }).toEqual({
      committed,
      queued: TOTAL - committed,
      sent: TOTAL,
      balanced: true,
    });
    // The rest is processed after a restart, each order exactly once.
    await sys.startApp('website-connector');
    const done = await eventually(
      async () => (await count('SELECT count(*) n FROM processed_events')) >= TOTAL,
      120_000,
      250,
    ).catch(() => false);
    // On failure, say where the rest is: still queued (slow), dead-lettered, or gone.
    expect({
      done,
      processed: done ? TOTAL : await count('SELECT count(*) n FROM processed_events'),
      queued: done ? 0 : await queued(),
      deadLettered: done ? 0 : await sys.queueDepth(sys.queue('website-connector', 'dlq')),
    }).toEqual({ done: true, processed: TOTAL, queued: 0, deadLettered: 0 });
    expect(await eventually(async () => (await queued()) === 0, 30_000, 250)).toBe(true);
    expect(await count('SELECT count(*) n FROM processed_events')).toBe(TOTAL);
    expect(await count('SELECT count(DISTINCT external_id) n FROM deals')).toBe(TOTAL);
    expect(await count('SELECT count(*) n FROM deals')).toBe(TOTAL);
  });
});
