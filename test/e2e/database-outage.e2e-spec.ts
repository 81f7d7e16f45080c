import { eventually, localStack, order, pool, sleep, stackCall, TestSystem } from './support/system';

/** Invariant 5: a PostgreSQL outage does not stop ingest; the connector waits and drains the backlog. */
(localStack() ? describe : describe.skip)('database outage', () => {
  const sys = new TestSystem('database-outage');

  beforeAll(() => sys.start(['gateway', 'website-connector']));
  afterAll(async () => {
    await stackCall('startPostgres');
    await sys.destroy();
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

    await stackCall('stopPostgres');
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
      await stackCall('startPostgres');
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
