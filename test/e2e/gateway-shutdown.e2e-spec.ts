import { eventually, order, TestSystem } from './support/system';

interface Attempt {
  externalId: string;
  startedAt: number;
  endedAt?: number;
  /** `202`, `503 SHUTTING_DOWN application/problem+json`, or `connection <code>` when no answer came. */
  outcome?: string;
}

const SHUTTING_DOWN = '503 SHUTTING_DOWN application/problem+json';

/**
 * SIGTERM on the gateway under load. Every request in flight at the signal gets an answer, 202 (and then
 * reaches the CRM) or 503 SHUTTING_DOWN, never a reset; the process then exits 0 after logging that HTTP
 * drained. An abrupt exit (no drain) resets the in-flight requests and dies by the signal: both fail here.
 */
describe('gateway graceful shutdown', () => {
  // LOG_LEVEL info: the drain's log line is part of what is asserted.
  const sys = new TestSystem('gateway-shutdown', { LOG_LEVEL: 'info' });

  beforeAll(() => sys.start(['gateway', 'website-connector']));
  afterAll(() => sys.destroy());

  it('answers every request in flight at SIGTERM with 202 or 503 SHUTTING_DOWN and loses no 202', async () => {
    const gateway = sys.app('gateway');
    const attempts: Attempt[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const o = order();
        const a: Attempt = { externalId: o.externalId as string, startedAt: Date.now() };
        attempts.push(a);
        try {
          const res = await sys.post('/v1/website/orders', o);
          if (res.status === 202) {
            a.outcome = '202';
            await res.arrayBuffer();
          } else {
            const body = (await res.json()) as { code?: string };
            a.outcome = `${res.status} ${body.code} ${res.headers.get('content-type')?.split(';')[0]}`;
          }
        } catch (err) {
          const cause = (err as { cause?: { code?: string } }).cause;
          a.outcome = `connection ${cause?.code ?? (err as Error).message}`;
        }
        a.endedAt = Date.now();
      }
    };
    const workers = Array.from({ length: 20 }, () => worker());
    const warm = await eventually(
      async () => attempts.filter((a) => a.outcome === '202').length >= 200,
      30_000,
      20,
    );
    expect(warm).toBe(true);

    const sigtermAt = Date.now();
    const exitCode = await gateway.kill('SIGTERM');
    stop = true;
    await Promise.all(workers);

    const inFlight = attempts.filter((a) => a.startedAt < sigtermAt && a.endedAt! >= sigtermAt);
    expect(inFlight.length).toBeGreaterThan(0);
    // Every request started before the signal got an answer in the contract: accepted, or refused with a code.
    const outcomes = inFlight.map((a) => a.outcome);
    expect(outcomes.filter((o) => o !== '202' && o !== SHUTTING_DOWN)).toEqual([]);
    // Requests started after the signal: refused at the connection (the listener is gone) or 503 SHUTTING_DOWN.
    const later = attempts.filter((a) => a.startedAt >= sigtermAt).map((a) => a.outcome);
    expect(later.filter((o) => o !== '202' && o !== SHUTTING_DOWN && !o?.startsWith('connection '))).toEqual(
      [],
    );

    // A graceful stop: Nest's shutdown hooks ran (HTTP drained, broker closed) and the process exited 0. Killed by
    // the signal itself, it would have no exit code (signalCode SIGTERM) and no drain line.
    expect({ exitCode, signal: gateway.proc.signalCode }).toEqual({ exitCode: 0, signal: null });
    expect(gateway.output).toContain('HTTP server closed: every request in flight was answered');

    // Every 202, including those answered during the drain, reaches the CRM, once.
    const accepted = attempts.filter((a) => a.outcome === '202').map((a) => a.externalId);
    // At least one request was accepted during the drain: the drain did real work, not just refuse.
    expect(inFlight.filter((a) => a.outcome === '202').length).toBeGreaterThan(0);
    const countStored = async () =>
      Number(
        (
          await sys.sql<{ n: string }>(`SELECT count(*) n FROM deals WHERE external_id = ANY($1)`, [accepted])
        )[0].n,
      );
    expect(await eventually(async () => (await countStored()) === accepted.length, 60_000)).toBe(true);
    // The connector is idle now: a sentinel posted after the others being stored means nothing else is coming.
    await sys.startApp('gateway');
    const sentinel = order();
    expect((await sys.post('/v1/website/orders', sentinel)).status).toBe(202);
    const sentinelStored = await eventually(
      async () =>
        (await sys.sql(`SELECT 1 FROM deals WHERE external_id = $1`, [sentinel.externalId])).length === 1,
      30_000,
    );
    expect(sentinelStored).toBe(true);
    expect(await countStored()).toBe(accepted.length);
  });
});
