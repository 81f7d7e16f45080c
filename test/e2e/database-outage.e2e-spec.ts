import { eventually, order, pool, PrivateServer, sleep, TestSystem } from './support/system';

/**
 * Invariant 5: a PostgreSQL outage does not stop ingest; the connector waits and drains the backlog.
 * Runs in every stack mode on a PostgreSQL of its own (the shared one is never stopped) and the run's broker.
 */
describe('database outage', () => {
  const postgres = new PrivateServer('postgres', 'database-outage');
  const sys = new TestSystem('database-outage', {}, { postgres });

  beforeAll(async () => {
    await postgres.start();
    await sys.start(['gateway', 'website-connector']);
  });
  afterAll(async () => {
    await postgres.start();
    await sys.destroy().catch(() => undefined);
    await postgres.stop();
  });

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await sys.sql<{ n: string }>(sql, params))[0].n);

  it('keeps accepting while the database is down, then processes everything once, dead-lettering nothing', async () => {
    const before = Array.from({ length: 100 }, () => order());
    const during = Array.from({ length: 200 }, () => order());
    expect(
      (await pool(before.length, 16, (i) => sys.post('/v1/website/orders', before[i]))).map((r) => r.status),
    ).toEqual(before.map(() => 202));
    await sys.stop(); // close our own SQL client before the server goes away
    sys.apps.clear();
    await sys.startApp('gateway');
    await sys.startApp('website-connector');

    await postgres.stop();
    try {
      const statuses = await pool(
        during.length,
        16,
        async (i) => (await sys.post('/v1/website/orders', during[i])).status,
      );
      expect(statuses.filter((s) => s !== 202)).toEqual([]);
      await sleep(4000); // the outage lasts longer than the whole retry ladder of config/test.json (600 ms)
      expect((await fetch(`${sys.app('website-connector').url}/health`)).status).toBe(503);
    } finally {
      await postgres.start();
    }

    const all = [...before, ...during].map((o) => o.externalId);
    const done = await eventually(
      async () =>
        (await count(`SELECT count(*) n FROM deals WHERE external_id = ANY($1)`, [all])) === all.length,
      60_000,
      250,
    );
    expect(done).toBe(true);
    expect(await count('SELECT count(*) n FROM processed_events')).toBe(all.length);
    expect(await sys.queueDepth(sys.queue('website-connector', 'dlq'))).toBe(0);
    expect(
      await eventually(
        async () => (await fetch(`${sys.app('website-connector').url}/health`)).status === 200,
      ),
    ).toBe(true);
  });
});
