import { eventually, order, PrivateServer, sleep, TestSystem } from './support/system';

/**
 * Invariant 1: no 2xx before durability. Broker down or silent -> 503, never 202; back -> ingest resumes.
 * Runs in every stack mode on a RabbitMQ of its own (the shared one is never stopped) and the run's PostgreSQL.
 */
describe('broker outage', () => {
  const rabbit = new PrivateServer('rabbitmq', 'broker-outage');
  const sys = new TestSystem('broker-outage', { AMQP_PUBLISH_TIMEOUT_MS: '1500' }, { rabbitmq: rabbit });

  beforeAll(async () => {
    await rabbit.start();
    await sys.start();
  });
  afterAll(async () => {
    await sys.destroy().catch(() => undefined);
    await rabbit.stop();
  });

  it('answers 503 while the broker is down and resumes without a gateway restart', async () => {
    const gateway = sys.app('gateway');
    const pid = gateway.proc.pid;
    expect((await sys.post('/v1/website/orders', order())).status).toBe(202);

    await rabbit.stop();
    const answers: string[] = [];
    const rejected: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const o = order();
        const res = await sys.post('/v1/website/orders', o);
        const body = (await res.json()) as { code?: string };
        answers.push(`${res.status} ${body.code} retry-after ${res.headers.get('retry-after')}`);
        rejected.push(o.externalId as string);
        await sleep(100);
      }
      expect(answers).toEqual(answers.map(() => '503 BROKER_UNAVAILABLE retry-after 1'));
      expect((await fetch(`${gateway.url}/health`)).status).toBe(503);
      expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    } finally {
      await rabbit.start();
    }

    const resumed = order();
    const ok = await eventually(
      async () => (await sys.post('/v1/website/orders', resumed)).status === 202,
      30_000,
      250,
    );
    expect(ok).toBe(true);
    expect(gateway.proc.pid).toBe(pid);
    expect(gateway.proc.exitCode).toBeNull();

    // The connector reconnected too: the order accepted after the outage reaches the CRM.
    const processed = await eventually(async () => {
      const r = await sys.sql(`SELECT 1 FROM deals WHERE external_id = $1`, [resumed.externalId]);
      return r.length === 1;
    }, 30_000);
    expect(processed).toBe(true);
    // What was refused with 503 was never accepted.
    const leaked = await sys.sql(`SELECT external_id FROM deals WHERE external_id = ANY($1)`, [rejected]);
    expect(leaked).toEqual([]);
  });

  it('answers 503 when the broker does not confirm in time (publishers blocked by a memory alarm)', async () => {
    await rabbit.rabbitmqctl('set_vm_memory_high_watermark', '0');
    try {
      const started = Date.now();
      const res = await sys.post('/v1/website/orders', order());
      expect(res.status).toBe(503);
      expect(((await res.json()) as { code: string }).code).toBe('BROKER_UNAVAILABLE');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    } finally {
      await rabbit.rabbitmqctl('set_vm_memory_high_watermark', '0.4');
    }
    const ok = await eventually(
      async () => (await sys.post('/v1/website/orders', order())).status === 202,
      30_000,
      250,
    );
    expect(ok).toBe(true);
  });
});
