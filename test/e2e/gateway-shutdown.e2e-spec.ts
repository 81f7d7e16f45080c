import { eventually, order, sleep, TestSystem } from './support/system';

/** SIGTERM on the gateway under load: in-flight requests finish, and every 202 reaches the CRM. */
describe('gateway graceful shutdown', () => {
  const sys = new TestSystem('gateway-shutdown');

  beforeAll(() => sys.start(['gateway', 'website-connector']));
  afterAll(() => sys.destroy());

  it('answers what it started and loses no acknowledged event', async () => {
    const gateway = sys.app('gateway');
    const accepted: string[] = [];
    const other: string[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const o = order();
        try {
          const res = await sys.post('/v1/website/orders', o);
          if (res.status === 202) accepted.push(o.externalId as string);
          else {
            // Refusing new work while closing is right, but in our contract: problem+json with a code.
            const body = (await res.json()) as { code?: string };
            other.push(`${res.status} ${body.code} ${res.headers.get('content-type')?.split(';')[0]}`);
          }
        } catch {
          other.push('connection'); // refused or reset once the listener is gone: not accepted, peer retries
        }
      }
    };
    const workers = Array.from({ length: 20 }, () => worker());
    await eventually(async () => accepted.length >= 200, 30_000, 20);
    const exit = gateway.kill('SIGTERM');
    await sleep(1500);
    stop = true;
    await Promise.all(workers);
    await exit;
    // Nest runs its shutdown hooks (HTTP server drained, broker closed), then re-raises the signal.
    expect(gateway.proc.signalCode === 'SIGTERM' || gateway.proc.exitCode === 0).toBe(true);

    // Nothing answered was a server error: only refusals of new work, in the contract, or closed connections.
    const refusals = other.filter((s) => s !== 'connection');
    expect(refusals.filter((s) => s !== '503 SHUTTING_DOWN application/problem+json')).toEqual([]);
    const done = await eventually(async () => {
      const [{ n }] = await sys.sql<{ n: string }>(
        `SELECT count(*) n FROM deals WHERE external_id = ANY($1)`,
        [accepted],
      );
      return Number(n) === accepted.length;
    }, 60_000);
    expect(done).toBe(true);
  });
});
