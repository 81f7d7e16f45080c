import { Logger } from '@nestjs/common';
import type { AppConfig } from '@switchboard/config';
import { Metrics } from '@switchboard/observability';
import type { AccessLogSink } from './access-log.sink';
import { AccessLogWriter, MAX_BACKOFF_MS, NewAccessRecord } from './access-log.writer';
import type { AccessRecord } from './access-record';

const config = (over: Partial<AppConfig['accessLog']> = {}) =>
  ({
    database: { url: 'postgres://unused/db', poolSize: 1 },
    accessLog: {
      enabled: true,
      bodies: 'hash',
      flushIntervalMs: 100,
      batchSize: 3,
      maxBuffered: 100,
      retentionDays: 1,
      maintenanceIntervalSeconds: 1,
      partitionsAheadDays: 1,
      ...over,
    },
  }) as AppConfig;

let seq = 0;
const rec = (over: Partial<NewAccessRecord> = {}): NewAccessRecord => ({
  direction: 'inbound',
  peerId: 'shop',
  service: '/v1/website/orders',
  method: 'POST',
  startedAt: new Date(),
  durationMs: 1.5,
  result: 'accepted',
  httpStatus: 202,
  errorCode: null,
  eventId: null,
  clientIp: '127.0.0.1',
  bytesIn: 10,
  bytesOut: 20,
  correlationId: `c${++seq}`,
  bodyHash: null,
  body: null,
  ...over,
});

/** A store that is up or down on demand, and remembers every batch it took. */
class FakeSink implements AccessLogSink {
  batches: AccessRecord[][] = [];
  down = false;
  refuse = new Set<string>(); // correlation ids rejected as bad data
  async write(records: readonly AccessRecord[]): Promise<void> {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    if (records.some((r) => this.refuse.has(r.correlationId!)))
      throw Object.assign(new Error('invalid input syntax for type inet'), { code: '22P02' });
    this.batches.push([...records]);
  }
  get rows(): AccessRecord[] {
    return this.batches.flat();
  }
}

async function metric(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)!.get();
  return m.values
    .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((s, v) => s + v.value, 0);
}

describe('AccessLogWriter', () => {
  let sink: FakeSink;
  let metrics: Metrics;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers();
    sink = new FakeSink();
    metrics = new Metrics();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('buffers without I/O and flushes on the interval in one batch, with UUIDv7 ids of startedAt', async () => {
    const w = new AccessLogWriter(config({ batchSize: 10 }), metrics, sink);
    const startedAt = new Date('2026-01-05T10:00:00.123Z');
    w.record(rec({ startedAt }));
    w.record(rec());
    expect(sink.batches).toHaveLength(0);
    expect(w.pending).toBe(2);
    await jest.advanceTimersByTimeAsync(100);
    expect(sink.batches.map((b) => b.length)).toEqual([2]);
    const [first] = sink.rows;
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // UUIDv7's first 48 bits are the Unix time in ms: the record's start.
    expect(parseInt(first.id.replace(/-/g, '').slice(0, 12), 16)).toBe(startedAt.getTime());
    expect(await metric(metrics, 'switchboard_access_log_written_total')).toBe(2);
    await w.close();
  });

  it('flushes as soon as batchSize records are waiting, in batches of batchSize', async () => {
    const w = new AccessLogWriter(config({ batchSize: 3, flushIntervalMs: 60_000 }), metrics, sink);
    for (let i = 0; i < 7; i++) w.record(rec());
    await jest.advanceTimersByTimeAsync(0);
    expect(sink.rows).toHaveLength(7);
    expect(sink.batches.map((b) => b.length)).toEqual([3, 3, 1]);
    await w.close();
  });

  it('keeps records while the store is down, backs off, and catches up in order when it returns', async () => {
    const w = new AccessLogWriter(config({ batchSize: 1000, flushIntervalMs: 100 }), metrics, sink);
    sink.down = true;
    for (let i = 0; i < 5; i++) w.record(rec());
    await jest.advanceTimersByTimeAsync(100);
    expect(await metric(metrics, 'switchboard_access_log_write_failures_total')).toBe(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('store unavailable'));
    // Backoff: no new attempt on every tick.
    await jest.advanceTimersByTimeAsync(300);
    expect(await metric(metrics, 'switchboard_access_log_write_failures_total')).toBe(1);
    await jest.advanceTimersByTimeAsync(5_000);
    const failures = await metric(metrics, 'switchboard_access_log_write_failures_total');
    expect(failures).toBeGreaterThan(1);
    expect(failures).toBeLessThan(10);
    for (let i = 0; i < 3; i++) w.record(rec());
    expect(w.pending).toBe(8);
    sink.down = false;
    await jest.advanceTimersByTimeAsync(MAX_BACKOFF_MS + 100);
    expect(sink.rows.map((r) => r.correlationId)).toEqual([...Array(8).keys()].map((i) => `c${seq - 7 + i}`));
    expect(w.pending).toBe(0);
    await w.close();
  });

  it('a retried batch keeps its ids (the store ignores what it already has)', async () => {
    const w = new AccessLogWriter(config({ batchSize: 1000 }), metrics, sink);
    sink.down = true;
    w.record(rec());
    await expect(w.flush()).rejects.toThrow('ECONNREFUSED');
    sink.down = false;
    const idBefore = (w as unknown as { buffer: AccessRecord[] }).buffer[0].id;
    await w.flush();
    expect(sink.rows[0].id).toBe(idBefore);
    await w.close();
  });

  it('drops above maxBuffered, counts it, and warns at most every 10 s with the number dropped', async () => {
    const w = new AccessLogWriter(config({ maxBuffered: 100, batchSize: 1000 }), metrics, sink);
    sink.down = true;
    for (let i = 0; i < 130; i++) w.record(rec());
    expect(w.pending).toBe(100);
    expect(await metric(metrics, 'switchboard_access_log_dropped_total', { reason: 'overflow' })).toBe(30);
    const dropWarnings = () => warn.mock.calls.filter(([m]) => String(m).includes('dropped'));
    expect(dropWarnings()).toHaveLength(1); // the first drop, at once
    expect(dropWarnings()[0][0]).toContain('dropped 1 records');
    await jest.advanceTimersByTimeAsync(5_000);
    expect(dropWarnings()).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(5_100);
    expect(dropWarnings()).toHaveLength(2);
    expect(dropWarnings()[1][0]).toContain('dropped 29 records');
    expect(await metric(metrics, 'switchboard_access_log_buffered')).toBe(100);
    // The store returns: everything kept is written, and new records are accepted again.
    sink.down = false;
    await jest.advanceTimersByTimeAsync(MAX_BACKOFF_MS + 100);
    expect(sink.rows).toHaveLength(100);
    w.record(rec());
    await w.flush();
    expect(sink.rows).toHaveLength(101);
    await w.close();
  });

  it('a record the store refuses as data is dropped alone; the rest of its batch is written', async () => {
    const w = new AccessLogWriter(config({ batchSize: 1000 }), metrics, sink);
    w.record(rec());
    w.record(rec({ correlationId: 'bad' }));
    w.record(rec());
    sink.refuse.add('bad');
    await w.flush();
    expect(sink.rows.map((r) => r.correlationId)).not.toContain('bad');
    expect(sink.rows).toHaveLength(2);
    expect(await metric(metrics, 'switchboard_access_log_dropped_total', { reason: 'invalid' })).toBe(1);
    await w.close();
  });

  it('graceful shutdown writes everything buffered, waiting out a short outage', async () => {
    jest.useRealTimers();
    const w = new AccessLogWriter(config({ batchSize: 1000, flushIntervalMs: 60_000 }), metrics, sink);
    for (let i = 0; i < 50; i++) w.record(rec());
    sink.down = true;
    setTimeout(() => (sink.down = false), 600);
    await w.onApplicationShutdown();
    expect(sink.rows).toHaveLength(50);
    // After shutdown nothing is buffered any more (it could never be written).
    w.record(rec());
    expect(w.pending).toBe(0);
  });

  it('is a no-op when disabled', async () => {
    const w = new AccessLogWriter(config({ enabled: false }), metrics, sink);
    w.record(rec());
    expect(w.pending).toBe(0);
    await w.flush();
    expect(sink.batches).toHaveLength(0);
    await w.close();
  });
});
