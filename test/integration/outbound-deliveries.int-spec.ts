import {
  ChangeToFanOut,
  OutboundDeliveries,
  sqlFromDataSource,
  sqlFromManager,
} from '@switchboard/peer-auth';
import { useIntegrationDb } from './support/db';

/** The SQL half of outbound delivery rules: per-contact order, supersede, exclusive claims, half-open breaker. */
const db = useIntegrationDb();
const T0 = new Date('2026-12-07T10:00:00Z');
const policy = {
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  retryForHours: 24,
  breakerFailures: 2,
  breakerCooldownMs: 10_000,
  pauseAfterHours: 24,
};
let seq = 0;
const change = (contact: string, deal: string, status: string): ChangeToFanOut => {
  seq += 1;
  return {
    seq: String(seq),
    type: 'crm.deal.status_changed',
    aggregateKey: `contact:${contact}`,
    supersedeKey: `crm.deal.status_changed|contact:${contact}|${deal}`,
    body: JSON.stringify({ data: { deal, status } }),
  };
};
const statusOf = (body: string) => (JSON.parse(body) as { data: { deal: string; status: string } }).data;

describe('OutboundDeliveries', () => {
  let deliveries: OutboundDeliveries;
  const fanOut = (changes: ChangeToFanOut[], now = T0) =>
    db().transaction((em) => deliveries.fanOut(sqlFromManager(em), changes, now));

  beforeAll(async () => {
    deliveries = new OutboundDeliveries(sqlFromDataSource(db()));
    for (const id of ['site-a', 'site-b']) {
      await db().query(`INSERT INTO peers (id, name, kind) VALUES ($1, $1, 'website')`, [id]);
      await db().query(
        `INSERT INTO outbound_endpoints (peer_id, url, secret, event_types) VALUES ($1, 'http://x', 's', $2)`,
        [id, ['crm.deal.status_changed']],
      );
    }
  });
  beforeEach(() => db().query(`DELETE FROM outbound_deliveries`));

  it('fans a change out once per subscribed endpoint, idempotently', async () => {
    const c = change('c1', 'd1', 'paid');
    expect(await fanOut([c])).toBe(2);
    expect(await fanOut([c])).toBe(0);
    expect(await db().query(`SELECT peer_id FROM outbound_deliveries ORDER BY peer_id`)).toEqual([
      { peer_id: 'site-a' },
      { peer_id: 'site-b' },
    ]);
  });

  it('claims only the oldest pending change of a contact; the next one after it is settled', async () => {
    await fanOut([change('c1', 'd1', 'paid'), change('c1', 'd2', 'paid'), change('c2', 'd3', 'paid')]);
    const first = await deliveries.claim(T0, 100, 30_000);
    expect(first.filter((d) => d.peerId === 'site-a').map((d) => statusOf(d.body).deal)).toEqual([
      'd1',
      'd3',
    ]);
    // Leased: nobody else gets them, and d2 still waits behind d1.
    expect(await deliveries.claim(T0, 100, 30_000)).toEqual([]);
    await deliveries.complete(
      first.map((delivery) => ({ delivery, result: { httpStatus: 204 }, at: T0 })),
      T0,
      policy,
    );
    const next = await deliveries.claim(T0, 100, 30_000);
    expect(next.map((d) => [d.peerId, statusOf(d.body).deal])).toEqual([
      ['site-a', 'd2'],
      ['site-b', 'd2'],
    ]);
  });

  it('supersedes a waiting change of the same deal, never one in flight, never another deal', async () => {
    await fanOut([change('c1', 'd1', 'processing')]);
    const inFlight = await deliveries.claim(T0, 100, 30_000);
    await fanOut([
      change('c1', 'd1', 'shipped'),
      change('c1', 'd2', 'paid'),
      change('c1', 'd1', 'delivered'),
    ]);
    const rows = await db().query(
      `SELECT status, body FROM outbound_deliveries WHERE peer_id = 'site-a' ORDER BY change_seq`,
    );
    expect(rows.map((r: { status: string; body: string }) => [statusOf(r.body).status, r.status])).toEqual([
      ['processing', 'pending'], // leased: in flight, left alone
      ['shipped', 'superseded'],
      ['paid', 'pending'],
      ['delivered', 'pending'],
    ]);
    expect(inFlight).toHaveLength(2);
  });

  it('two claimers at once never get the same delivery (SKIP LOCKED)', async () => {
    await fanOut(Array.from({ length: 200 }, (_, i) => change(`k${i}`, `d${i}`, 'paid')));
    const [a, b] = await Promise.all([deliveries.claim(T0, 150, 30_000), deliveries.claim(T0, 150, 30_000)]);
    const ids = [...a, ...b].map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(250);
  });

  it('an open breaker holds the endpoint; half-open lets one probe through', async () => {
    await fanOut(Array.from({ length: 4 }, (_, i) => change(`h${i}`, `hd${i}`, 'paid')));
    const round = (await deliveries.claim(T0, 100, 30_000)).filter((d) => d.peerId === 'site-b');
    await deliveries.complete(
      round.map((delivery) => ({ delivery, result: { httpStatus: 503 }, at: T0 })),
      T0,
      policy,
      () => 0,
    );
    const during = await deliveries.claim(new Date(T0.getTime() + 5000), 100, 30_000);
    expect(during.filter((d) => d.peerId === 'site-b')).toEqual([]);
    const after = await deliveries.claim(new Date(T0.getTime() + 10_000), 100, 30_000);
    expect(after.filter((d) => d.peerId === 'site-b')).toHaveLength(1);
  });
});
