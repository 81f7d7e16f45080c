import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { Metrics } from '@switchboard/observability';
import { Pool } from 'pg';
import { Counter, Gauge } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import { ACCESS_LOG_SINK, AccessLogSink, isDataError, PgAccessLogSink } from './access-log.sink';
import type { AccessRecord } from './access-record';

/** What callers hand over: the id is made at flush time when absent (UUIDv7 of startedAt, so ids sort by time). */
export type NewAccessRecord = Omit<AccessRecord, 'id'> & { id?: string };

export type DropReason = 'overflow' | 'invalid' | 'shutdown';

/** Retries back off from the flush interval (at least 500 ms) up to this. */
export const MAX_BACKOFF_MS = 30_000;
/** Drop and outage warnings: at most one line per this period. */
export const WARN_EVERY_MS = 10_000;
/** How long graceful shutdown keeps trying to write what is buffered. */
export const SHUTDOWN_FLUSH_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function gauge(metrics: Metrics, name: string, help: string, collect: () => number): Gauge<string> {
  const existing = metrics.registry.getSingleMetric(name);
  if (existing) return existing as Gauge<string>;
  return new Gauge({
    name,
    help,
    registers: [metrics.registry],
    collect(this: Gauge<string>) {
      this.set(collect());
    },
  });
}

/**
 * The interface access log's writer: record() only appends to memory (no I/O, never throws), so the request
 * path stays cheap. A timer (or a full batch) flushes with one multi-row INSERT over a pool of its own. When the
 * store is down, records stay buffered and flushes back off; the log catches up when PostgreSQL returns. Above
 * accessLog.maxBuffered new records are dropped, counted (switchboard_access_log_dropped_total) and reported in a
 * warning at most every 10 s. Graceful shutdown writes everything still buffered.
 */
@Injectable()
export class AccessLogWriter implements OnApplicationShutdown {
  private readonly logger = new Logger('AccessLog');
  readonly enabled: boolean;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;
  private readonly sink: AccessLogSink;
  private readonly ownsSink: boolean;

  private buffer: NewAccessRecord[] = [];
  private inFlight = 0;
  private flushing: Promise<void> | null = null;
  private flushScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private retryAt = 0;
  private lastStoreWarnAt = 0;
  private droppedSinceWarn: Record<DropReason, number> = { overflow: 0, invalid: 0, shutdown: 0 };
  private lastDropWarnAt = 0;
  private closed = false;

  private readonly written: Counter<string>;
  private readonly dropped: Counter<string>;
  private readonly writeFailures: Counter<string>;

  constructor(
    config: AppConfig,
    metrics: Metrics,
    @Optional() @Inject(ACCESS_LOG_SINK) sink?: AccessLogSink,
  ) {
    const c = config.accessLog;
    this.enabled = c.enabled;
    this.batchSize = c.batchSize;
    this.flushIntervalMs = c.flushIntervalMs;
    this.maxBuffered = c.maxBuffered;
    this.ownsSink = !sink;
    this.sink = sink ?? new PgAccessLogSink(this.createPool(config));
    this.written = metrics.counter('switchboard_access_log_written_total', 'Access log records stored');
    this.dropped = metrics.counter(
      'switchboard_access_log_dropped_total',
      'Access log records dropped (overflow: buffer full while the store was slow or down)',
      ['reason'],
    );
    this.writeFailures = metrics.counter(
      'switchboard_access_log_write_failures_total',
      'Failed access log batch writes (retried)',
    );
    gauge(
      metrics,
      'switchboard_access_log_buffered',
      'Access log records in memory, not yet stored',
      () => this.pending,
    );
  }

  private createPool(config: AppConfig): Pool {
    const pool = new Pool({
      connectionString: config.database.url,
      max: 2,
      connectionTimeoutMillis: 5000,
      query_timeout: 30_000,
      application_name: `${process.title}:access-log`.slice(0, 63),
    });
    // An idle client dying with the server must not crash the process; the next flush fails and retries.
    pool.on('error', (err) => this.logger.warn(`access log pool: ${err.message}`));
    return pool;
  }

  /** Records held in memory (buffered or being written). */
  get pending(): number {
    return this.buffer.length + this.inFlight;
  }

  /** Appends one record. Never blocks, never throws; a no-op when accessLog.enabled is false. */
  record(r: NewAccessRecord): void {
    if (!this.enabled) return;
    if (this.closed) {
      this.drop(1, 'shutdown');
      return;
    }
    if (this.buffer.length + this.inFlight >= this.maxBuffered) {
      this.drop(1, 'overflow');
      return;
    }
    this.buffer.push(r);
    if (!this.timer) this.startTimer();
    if (this.buffer.length >= this.batchSize && !this.flushing && Date.now() >= this.retryAt) {
      this.scheduleFlush();
    }
  }

  /**
   * Writes everything buffered now, batch by batch (retry backoff does not apply to an explicit flush).
   * Rejects when the store fails; the records stay buffered for the next attempt.
   */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (!this.buffer.length) return;
    this.flushing = this.drain();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Stops the timer and writes what is buffered, trying for up to deadlineMs; then releases the pool. */
  async close(deadlineMs = SHUTDOWN_FLUSH_MS): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + deadlineMs;
    while (this.buffer.length || this.flushing) {
      try {
        await this.flush();
      } catch {
        if (Date.now() >= deadline) break;
        await sleep(Math.min(250, deadline - Date.now()));
      }
      if (Date.now() >= deadline) break;
    }
    this.closed = true;
    const lost = this.buffer.length;
    this.buffer = [];
    if (lost) {
      this.dropped.inc({ reason: 'shutdown' }, lost);
      this.logger.error(`access log: ${lost} records could not be stored before shutdown`);
    }
    this.warnDrops(true);
    if (this.ownsSink) await this.sink.close?.().catch(() => undefined);
  }

  private startTimer(): void {
    this.timer = setInterval(() => this.tick(), this.flushIntervalMs);
    this.timer.unref();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.tick();
    });
  }

  private tick(): void {
    this.warnDrops(false);
    if (!this.buffer.length || this.flushing || Date.now() < this.retryAt) return;
    this.flush().catch(() => undefined); // logged in onStoreFailure; retried by a later tick
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      let batch: NewAccessRecord[];
      if (this.buffer.length <= this.batchSize) {
        batch = this.buffer;
        this.buffer = [];
      } else {
        batch = this.buffer.slice(0, this.batchSize);
        this.buffer = this.buffer.slice(this.batchSize);
      }
      // Ids are fixed before the first attempt, so a retried batch hits ON CONFLICT DO NOTHING, not duplicates.
      for (const r of batch) r.id ??= uuidv7({ msecs: r.startedAt.getTime() });
      const rows = batch as AccessRecord[];
      this.inFlight += rows.length;
      try {
        await this.writeBatch(rows);
      } catch (err) {
        this.buffer = (rows as NewAccessRecord[]).concat(this.buffer);
        this.onStoreFailure(err as Error);
        throw err;
      } finally {
        this.inFlight -= rows.length;
      }
      this.onStoreSuccess();
    }
  }

  /** One INSERT; if the data (not the store) is refused, row by row so one bad record cannot block the log. */
  private async writeBatch(rows: AccessRecord[]): Promise<void> {
    try {
      await this.sink.write(rows);
      this.written.inc(rows.length);
      return;
    } catch (err) {
      if (!isDataError(err)) throw err;
    }
    for (const row of rows) {
      try {
        await this.sink.write([row]);
        this.written.inc(1);
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.drop(1, 'invalid');
        this.logger.warn(
          `access log: record refused by the store (${(err as { code?: string }).code}), dropped`,
        );
      }
    }
  }

  private onStoreFailure(err: Error): void {
    this.writeFailures.inc();
    this.failures += 1;
    const delay = Math.min(
      MAX_BACKOFF_MS,
      Math.max(this.flushIntervalMs, 500) * 2 ** Math.min(this.failures - 1, 10),
    );
    this.retryAt = Date.now() + delay;
    const now = Date.now();
    if (this.failures === 1 || now - this.lastStoreWarnAt >= WARN_EVERY_MS) {
      this.lastStoreWarnAt = now;
      this.logger.warn(
        `access log store unavailable (${err.message}); ${this.pending} records buffered, retrying in ${delay} ms`,
      );
    }
  }

  private onStoreSuccess(): void {
    if (this.failures > 0) {
      this.logger.log(`access log store reachable again; ${this.pending} records left to write`);
    }
    this.failures = 0;
    this.retryAt = 0;
  }

  private drop(n: number, reason: DropReason): void {
    this.dropped.inc({ reason }, n);
    this.droppedSinceWarn[reason] += n;
    this.warnDrops(false);
  }

  private warnDrops(force: boolean): void {
    const { overflow, invalid, shutdown } = this.droppedSinceWarn;
    const total = overflow + invalid + shutdown;
    if (!total) return;
    const now = Date.now();
    if (!force && now - this.lastDropWarnAt < WARN_EVERY_MS) return;
    const why = [
      overflow ? `${overflow} over the buffer limit accessLog.maxBuffered = ${this.maxBuffered}` : '',
      invalid ? `${invalid} refused by the store` : '',
      shutdown ? `${shutdown} after shutdown` : '',
    ].filter(Boolean);
    this.logger.warn(`access log: dropped ${total} records (${why.join(', ')}); ${this.pending} buffered`);
    this.lastDropWarnAt = now;
    this.droppedSinceWarn = { overflow: 0, invalid: 0, shutdown: 0 };
  }
}
