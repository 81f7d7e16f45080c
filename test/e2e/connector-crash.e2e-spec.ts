import { eventually, order, pool, TestSystem } from './support/system';

/** Invariants 2 and 3 under a crash: SIGKILL the connector mid-stream; after restart each order exists once. */
describe('connector killed mid-processing', () => {
  const sys = new TestSystem('connector-crash', { AMQP_PREFETCH: '200' });
  const TOTAL = 2000;

  // The connector starts once the whole backlog is queued: it drains faster than the test can post.
  beforeAll(() => sys.start(['gateway']));
  afterAll(() => sys.destroy());

  const count = async (sql: string) => Number((await sys.sql<{ n: string }>(sql))[0].n);

  it('loses nothing and duplicates nothing', async () => {
    const orders = Array.from({ length: TOTAL }, () => order());
    const statuses = await pool(
      TOTAL,
      32,
      async (i) => (await sys.post('/v1/website/orders', orders[i])).status,
    );
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    await sys.startApp('website-connector');

    // Kill while the backlog is being worked through.
    await eventually(async () => (await count('SELECT count(*) n FROM processed_events')) >= 50, 30_000, 20);
    await sys.app('website-connector').kill('SIGKILL');
    const atKill = await count('SELECT count(*) n FROM processed_events');
    expect(atKill).toBeLessThan(TOTAL);

    await sys.startApp('website-connector');
    const done = await eventually(
      async () => (await count('SELECT count(*) n FROM processed_events')) >= TOTAL,
      120_000,
      250,
    );
    expect(done).toBe(true);
    expect(await sys.queueDepth(sys.queue('website-connector'))).toBe(0);

    expect(await count('SELECT count(*) n FROM processed_events')).toBe(TOTAL);
    expect(await count('SELECT count(*) n FROM deals')).toBe(TOTAL);
    expect(await count('SELECT count(DISTINCT external_id) n FROM deals')).toBe(TOTAL);
    expect(await count('SELECT count(*) n FROM contacts')).toBe(TOTAL);
    expect(await count('SELECT count(*) n FROM deal_items')).toBe(TOTAL * 2);
    const missing = await sys.sql(
      `SELECT x FROM unnest($1::text[]) x WHERE NOT EXISTS (SELECT 1 FROM deals d WHERE d.external_id = x)`,
      [orders.map((o) => o.externalId)],
    );
    expect(missing).toEqual([]);
    expect(await count(`SELECT count(*) n FROM processed_events WHERE outcome <> 'created'`)).toBe(0);
  });
});
