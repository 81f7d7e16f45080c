import { AccessLogPartitions } from '@switchboard/access-log';
import type { AppConfig } from '@switchboard/config';
import type { EventEnvelope } from '@switchboard/contracts';
import {
  BatchingInbox,
  DAY_MS,
  Inbox,
  InboxPartitions,
  PartitionMaintenance,
  utcDay,
} from '@switchboard/database';
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { useIntegrationDb } from './support/db';

/**
 * The inbox on its day-partitioned table (issue 20): dedup holds within the idempotency window across days and
 * in the default partition; partition maintenance (one scheduler for the access log and the inbox) makes days
 * ahead and drops the ones past each table's retention.
 */
const db = useIntegrationDb();
const WINDOW_DAYS = 30;
let inbox: Inbox;
let batching: BatchingInbox;
let partitions: InboxPartitions;
let effects = 0;
const effect = () => {
  effects++;
  return Promise.resolve({ outcome: 'created' });
};

/** An event the gateway received at `at` (the UUIDv7 id carries that time). */
function event(key: string, at: Date, peerId = 'shop'): EventEnvelope {
  return {
    id: uuidv7({ msecs: at.getTime() }),
    type: 'test.fact',
    peerId,
    idempotencyKey: key,
    occurredAt: at.toISOString(),
    receivedAt: at.toISOString(),
    schemaVersion: 1,
    traceId: randomUUID(),
    payload: {},
  };
}

const daysAgo = (n: number, from = new Date()) => new Date(from.getTime() - n * DAY_MS);
const markers = async (key: string) =>
  db().query<Array<{ day: string; part: string }>>(
    `SELECT received_on::text AS day, tableoid::regclass::text AS part FROM processed_events
      WHERE idempotency_key = $1 ORDER BY received_on`,
    [key],
  );

beforeAll(() => {
  inbox = new Inbox(db());
  batching = new BatchingInbox(db(), inbox);
  partitions = new InboxPartitions(db(), WINDOW_DAYS);
});

beforeEach(() => {
  effects = 0;
});

describe('duplicates within the window are refused', () => {
  beforeAll(async () => {
    const now = new Date();
    await partitions.ensure(daysAgo(5, now), daysAgo(-2, now));
  });

  it('a redelivery, a same-day re-post and a re-post days later: processed once', async () => {
    const first = event('order-1', daysAgo(3));
    expect((await inbox.process('c', first, effect)).duplicate).toBe(false);
    expect((await inbox.process('c', first, effect)).duplicate).toBe(true);
    expect((await inbox.process('c', event('order-1', daysAgo(3)), effect)).duplicate).toBe(true);
    expect((await inbox.process('c', event('order-1', new Date()), effect)).duplicate).toBe(true);
    expect(effects).toBe(1);
    expect(await markers('order-1')).toEqual([
      {
        day: utcDay(daysAgo(3)).toISOString().slice(0, 10),
        part: expect.stringMatching(/^processed_events_p/),
      },
    ]);
    // Another consumer, or another peer with the same key, is another fact.
    expect((await inbox.process('c2', event('order-1', new Date()), effect)).duplicate).toBe(false);
    expect((await inbox.process('c', event('order-1', new Date(), 'other'), effect)).duplicate).toBe(false);
  });

  it('the outcome is written to the marker in its own day', async () => {
    const e = event('order-2', daysAgo(2));
    await inbox.process('c', e, () => Promise.resolve({ outcome: 'updated' }));
    expect(await db().query(`SELECT outcome FROM processed_events WHERE event_id = $1`, [e.id])).toEqual([
      { outcome: 'updated' },
    ]);
  });

  it('batched: a batch with a redelivery and re-posts of earlier days applies only the fresh items', async () => {
    await inbox.process('b', event('k-old', daysAgo(4)), effect);
    const fresh = event('k-new', new Date());
    const batch = [
      fresh,
      fresh, // a redelivery inside the batch
      event('k-new', daysAgo(1)), // the same key from another day, in the same batch
      event('k-old', new Date()), // a re-post of a marker four days old
    ];
    const results = await Promise.all(
      batch.map((envelope) => batching.submit('b', { envelope, lockKeys: [], effects: effect })),
    );
    expect(results.map((r) => r.duplicate)).toEqual([false, true, true, true]);
    expect(effects).toBe(2);
    const [{ outcome }] = await db().query<Array<{ outcome: string }>>(
      `SELECT outcome FROM processed_events WHERE event_id = $1`,
      [fresh.id],
    );
    expect(outcome).toBe('created');
  });

  it('batches racing on the same keys from different days (and a lone retry): each key applies once', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `race-batch-${i}`);
    const submitters = [0, 1, 2, 3].map(
      (day) => () =>
        Promise.all(
          keys.map((key) =>
            batching.submit('rb', { envelope: event(key, daysAgo(day)), lockKeys: [], effects: effect }),
          ),
        ),
    );
    const results = (
      await Promise.all([
        ...submitters.map((submit) => submit()),
        Promise.all(keys.map((key) => inbox.process('rb', event(key, daysAgo(1)), effect))),
      ])
    ).flat();
    expect(results.filter((r) => !r.duplicate)).toHaveLength(keys.length);
    expect(effects).toBe(keys.length);
    const [{ n, outcomes }] = await db().query<Array<{ n: number; outcomes: string[] }>>(
      `SELECT count(*)::int AS n, array_agg(DISTINCT outcome) AS outcomes FROM processed_events WHERE consumer = 'rb'`,
    );
    expect(n).toBe(keys.length);
    expect(outcomes).toEqual(['created']);
  });

  it('a re-post on another day racing the original: one of them applies', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => inbox.process('race', event('raced', daysAgo(i % 3)), effect)),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(effects).toBe(1);
    expect(await markers('raced')).toHaveLength(1);
  });
});

describe('the default partition', () => {
  it('markers of a day without a partition land in the default one, dedupe there and after moving out', async () => {
    const at = daysAgo(-20); // no partition that far ahead
    const e = event('future-1', at);
    expect((await inbox.process('d', e, effect)).duplicate).toBe(false);
    expect((await markers('future-1'))[0].part).toBe('processed_events_default');
    expect((await inbox.process('d', e, effect)).duplicate).toBe(true);
    expect((await inbox.process('d', event('future-1', at), effect)).duplicate).toBe(true);

    // Maintenance catching up: the day gets its partition and the marker moves in, still deduping.
    expect(await partitions.ensure(at, new Date(at.getTime() + 1))).toHaveLength(1);
    expect((await markers('future-1'))[0].part).toMatch(/^processed_events_p/);
    expect((await inbox.process('d', e, effect)).duplicate).toBe(true);
    expect(effects).toBe(1);
  });
});

describe('partition maintenance (one scheduler for the access log and the inbox)', () => {
  it('creates the days ahead, drops the days past the window, and clears the default partition of them', async () => {
    const now = new Date(Date.UTC(2031, 5, 15, 12));
    const maintenance = new PartitionMaintenance(
      [new AccessLogPartitions(db(), 180), new InboxPartitions(db(), WINDOW_DAYS)],
      { accessLog: { maintenanceIntervalSeconds: 3600, partitionsAheadDays: 3 } } as unknown as AppConfig,
    );
    // History: a marker 40 days before `now` in its week's partition, one 35 days before in the default
    // partition (its week never got one), one 10 days before (kept).
    await partitions.ensure(daysAgo(40, now), daysAgo(39, now));
    const old = event('hist-40', daysAgo(40, now));
    await inbox.process('m', old, effect);
    await inbox.process('m', event('hist-35', daysAgo(35, now)), effect);
    await inbox.process('m', event('hist-10', daysAgo(10, now)), effect);
    expect((await markers('hist-35'))[0].part).toBe('processed_events_default');

    const result = await maintenance.runOnce(now);
    const inboxResult = result.get('processed_events');
    // Weeks (7 days from a day number divisible by 7): the one holding yesterday .. 3 days ahead.
    expect(inboxResult?.created).toEqual(['processed_events_p20310612']);
    // (and the days the tests above used, years before this `now`)
    expect(inboxResult?.dropped).toContain('processed_events_p20310501'); // 2031-05-01 .. 05-07
    expect(inboxResult?.dropped.every((name) => name < 'processed_events_p20310516')).toBe(true);
    expect(inboxResult?.deletedFromDefault).toBeGreaterThanOrEqual(1);
    expect(result.get('access_log')?.created).toHaveLength(5);

    expect(await markers('hist-40')).toEqual([]);
    expect(await markers('hist-35')).toEqual([]);
    expect(await markers('hist-10')).toHaveLength(1);
    // Past the window the marker is gone: a redelivery that late is processed again (README says so).
    effects = 0;
    expect((await inbox.process('m', old, effect)).duplicate).toBe(false);
    expect(effects).toBe(1);

    // A second pass changes nothing.
    const again = await maintenance.runOnce(now);
    expect(again.get('processed_events')).toEqual({ created: [], dropped: [], deletedFromDefault: 1 });
  });
});
