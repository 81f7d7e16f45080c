import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';

export const DAY_MS = 86_400_000;
export const DEFAULT_PARTITION = 'access_log_default';
const NAME = /^access_log_p(\d{4})(\d{2})(\d{2})$/;
/** pg_advisory_xact_lock key serializing access-log maintenance across replicas and the CLI. */
export const MAINTENANCE_LOCK_KEY = 7_346_001_175;
/** Optional override of accessLog.retentionDays for AccessLogPartitions (tests, tools). */
export const ACCESS_LOG_RETENTION_DAYS = Symbol('ACCESS_LOG_RETENTION_DAYS');

export interface PartitionInfo {
  name: string;
  /** Inclusive lower bound; null for the default partition. */
  from: Date | null;
  /** Exclusive upper bound; null for the default partition. */
  to: Date | null;
  rows: number;
}

export interface DayPartition {
  name: string;
  from: Date;
  to: Date;
}

export interface RetentionResult {
  dropped: string[];
  deletedFromDefault: number;
}

export interface MaintenanceResult extends RetentionResult {
  created: string[];
}

// ---- pure naming and range math (UTC days) ----

export function utcDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

export function partitionName(day: Date): string {
  return `access_log_p${utcDay(day).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** The day range of a partition named by partitionName, or null for any other name. */
export function parsePartitionName(name: string): DayPartition | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (partitionName(from) !== name) return null; // 20250230 and the like
  return { name, from, to: new Date(from.getTime() + DAY_MS) };
}

/** Every UTC day overlapping [from, to), as day partitions. */
export function daysBetween(from: Date, to: Date): DayPartition[] {
  const out: DayPartition[] = [];
  for (let t = utcDay(from).getTime(); t < to.getTime(); t += DAY_MS) {
    const day = new Date(t);
    out.push({ name: partitionName(day), from: day, to: new Date(t + DAY_MS) });
  }
  return out;
}

export function retentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * DAY_MS);
}

/** Partitions wholly older than the cutoff (upper bound <= cutoff). */
export function expiredPartitions(parts: DayPartition[], cutoff: Date): DayPartition[] {
  return parts.filter((p) => p.to.getTime() <= cutoff.getTime());
}

/** Partitions wholly inside [from, to). */
export function partitionsInside(parts: DayPartition[], from: Date, to: Date): DayPartition[] {
  return parts.filter((p) => p.from.getTime() >= from.getTime() && p.to.getTime() <= to.getTime());
}

/** The window maintenance keeps partitioned: yesterday .. today + aheadDays (inclusive), in UTC days. */
export function maintenanceWindow(now: Date, aheadDays: number): { from: Date; to: Date } {
  const today = utcDay(now).getTime();
  return { from: new Date(today - DAY_MS), to: new Date(today + (aheadDays + 1) * DAY_MS) };
}

const literal = (d: Date) => `'${d.toISOString()}'`;

/** What the partition code needs of a connection: one statement with rows and a row count. */
interface Sql {
  query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number }>;
}

interface Db extends Sql {
  /** One transaction on one connection. */
  transaction<T>(fn: (c: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function poolDb(pool: Pool): Db {
  const on = (c: Pool | PoolClient): Sql => ({
    async query<R>(text: string, params?: unknown[]) {
      const r = await c.query(text, params);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
  });
  return {
    ...on(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        return await inTransaction(on(client), fn);
      } finally {
        client.release();
      }
    },
    close: () => pool.end().catch(() => undefined),
  };
}

/** On an application's TypeORM DataSource (the CLI's): borrowed, so close() leaves it open. */
function dataSourceDb(ds: DataSource): Db {
  return {
    async query<R>(text: string, params?: unknown[]) {
      const rows = (await ds.query(text, params)) as unknown;
      return Array.isArray(rows) ? { rows: rows as R[], rowCount: rows.length } : { rows: [], rowCount: 0 };
    },
    async transaction(fn) {
      const runner = ds.createQueryRunner();
      await runner.connect();
      try {
        return await inTransaction(
          {
            async query<R>(text: string, params?: unknown[]) {
              const r = (await runner.query(text, params, true)) as { records?: R[]; affected?: number };
              const rows = Array.isArray(r.records) ? r.records : [];
              return { rows, rowCount: r.affected ?? rows.length };
            },
          },
          fn,
        );
      } finally {
        await runner.release();
      }
    },
    close: async () => undefined,
  };
}

async function inTransaction<T>(c: Sql, fn: (c: Sql) => Promise<T>): Promise<T> {
  await c.query('BEGIN');
  try {
    await c.query(`SET LOCAL lock_timeout = '30s'`);
    await c.query('SELECT pg_advisory_xact_lock($1)', [MAINTENANCE_LOCK_KEY]);
    const result = await fn(c);
    await c.query('COMMIT');
    return result;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Day partitions of access_log: creation ahead of time, retention, operator deletion, listing. Every change
 * runs in one transaction holding a transaction-scoped advisory lock, so replicas (and the CLI) never race;
 * locks are taken parent first, then partitions, the order inserts use.
 */
@Injectable()
export class AccessLogPartitions implements OnApplicationShutdown {
  private readonly db: Db;
  private readonly retentionDays: number | null;
  private closed = false;

  /**
   * With AppConfig (how Nest builds it): a small pool of its own (2 connections) on database.url, ended by
   * close() or app shutdown, and accessLog.retentionDays. With a DataSource (the CLI): that connection, borrowed;
   * retentionDays then comes from the second argument (applyRetention needs it).
   */
  constructor(
    @Inject(AppConfig) source: AppConfig | DataSource,
    @Optional() @Inject(ACCESS_LOG_RETENTION_DAYS) retentionDays?: number,
  ) {
    if (source instanceof DataSource) {
      this.db = dataSourceDb(source);
      this.retentionDays = retentionDays ?? null;
      return;
    }
    this.retentionDays = retentionDays ?? source.accessLog.retentionDays;
    const pool = new Pool({
      connectionString: source.database.url,
      max: 2,
      connectionTimeoutMillis: 5000,
      application_name: `${process.title}:access-log-maintenance`.slice(0, 63),
    });
    pool.on('error', (err) => new Logger('AccessLogPartitions').warn(`pool: ${err.message}`));
    this.db = poolDb(pool);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Creates the missing day partitions for [from, to); rows the default partition holds for them move in. */
  async ensure(from: Date, to: Date): Promise<string[]> {
    const existing = new Set((await this.partitionNames(this.db)).map((p) => p.name));
    const created: string[] = [];
    for (const day of daysBetween(from, to)) {
      if (existing.has(day.name)) continue;
      const made = await this.db.transaction(async (c) => {
        // Re-checked under the lock: another replica may have made it meanwhile.
        if ((await this.partitionNames(c)).some((p) => p.name === day.name)) return false;
        await c.query('LOCK TABLE access_log IN SHARE UPDATE EXCLUSIVE MODE');
        await c.query(`LOCK TABLE ${DEFAULT_PARTITION} IN EXCLUSIVE MODE`);
        // Built standalone, filled from the default partition, then attached: attaching with rows for this
        // day still in the default partition would fail, and nothing can land there while it is locked.
        await c.query(`CREATE TABLE ${day.name} (LIKE access_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        await c.query(
          `WITH moved AS (DELETE FROM ${DEFAULT_PARTITION} WHERE started_at >= $1 AND started_at < $2 RETURNING *)
           INSERT INTO ${day.name} SELECT * FROM moved`,
          [day.from, day.to],
        );
        await c.query(
          `ALTER TABLE access_log ATTACH PARTITION ${day.name} FOR VALUES FROM (${literal(day.from)}) TO (${literal(day.to)})`,
        );
        return true;
      });
      if (made) created.push(day.name);
    }
    return created;
  }

  /** Drops day partitions older than retentionDays and deletes such rows from the default partition. */
  async applyRetention(now = new Date()): Promise<RetentionResult> {
    if (this.retentionDays === null) throw new Error('applyRetention: retentionDays not given');
    const retentionDays = this.retentionDays;
    const cutoff = retentionCutoff(now, retentionDays);
    return this.db.transaction(async (c) => {
      const expired = expiredPartitions(await this.partitionNames(c), cutoff);
      const rowsDropped = await this.dropPartitions(c, expired);
      const del = await c.query(`DELETE FROM ${DEFAULT_PARTITION} WHERE started_at < $1`, [cutoff]);
      const deletedFromDefault = del.rowCount;
      const dropped = expired.map((p) => p.name);
      await this.audit(c, 'retention', 'retention', null, cutoff, rowsDropped + deletedFromDefault, {
        retentionDays,
        droppedPartitions: dropped,
        rowsInDroppedPartitions: rowsDropped,
        deletedFromDefault,
      });
      return { dropped, deletedFromDefault };
    });
  }

  /**
   * Operator deletion of [from, to): whole day partitions inside the range are dropped, the partial edges and
   * the default partition's rows in it are deleted. Audited; returns the number of rows deleted.
   */
  async deleteRange(from: Date, to: Date, actor: string): Promise<number> {
    if (!(from.getTime() < to.getTime())) throw new Error('deleteRange: from must be before to');
    return this.db.transaction(async (c) => {
      const inside = partitionsInside(await this.partitionNames(c), from, to);
      const rowsDropped = await this.dropPartitions(c, inside);
      const del = await c.query('DELETE FROM access_log WHERE started_at >= $1 AND started_at < $2', [
        from,
        to,
      ]);
      const total = rowsDropped + del.rowCount;
      await this.audit(c, actor, 'delete', from, to, total, {
        droppedPartitions: inside.map((p) => p.name),
        rowsInDroppedPartitions: rowsDropped,
        rowsDeleted: del.rowCount,
      });
      return total;
    });
  }

  /** Day partitions in time order, then the default partition, with exact row counts. */
  async list(): Promise<PartitionInfo[]> {
    const parts = await this.partitionNames(this.db);
    const out: PartitionInfo[] = [];
    for (const p of parts) out.push({ ...p, rows: await this.count(this.db, p.name) });
    out.push({
      name: DEFAULT_PARTITION,
      from: null,
      to: null,
      rows: await this.count(this.db, DEFAULT_PARTITION),
    });
    return out;
  }

  /** One maintenance pass: partitions for yesterday .. today + aheadDays, then retention. */
  async maintain(now: Date, aheadDays: number): Promise<MaintenanceResult> {
    const window = maintenanceWindow(now, aheadDays);
    const created = await this.ensure(window.from, window.to);
    return { created, ...(await this.applyRetention(now)) };
  }

  private async partitionNames(db: Sql): Promise<DayPartition[]> {
    const { rows } = await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'access_log'::regclass`,
    );
    return rows
      .map((r) => parsePartitionName(r.name))
      .filter((p): p is DayPartition => p !== null)
      .sort((a, b) => a.from.getTime() - b.from.getTime());
  }

  private async count(db: Sql, table: string): Promise<number> {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return Number(rows[0].n);
  }

  private async dropPartitions(c: Sql, parts: DayPartition[]): Promise<number> {
    if (!parts.length) return 0;
    // Parent first (as inserts lock it), so dropping never deadlocks with a writer.
    await c.query('LOCK TABLE access_log IN ACCESS EXCLUSIVE MODE');
    let rows = 0;
    for (const p of parts) {
      rows += await this.count(c, p.name);
      await c.query(`DROP TABLE ${p.name}`);
    }
    return rows;
  }

  private async audit(
    c: Sql,
    actor: string,
    action: string,
    from: Date | null,
    to: Date | null,
    rows: number,
    details: object,
  ): Promise<void> {
    await c.query(
      `INSERT INTO access_log_audit (actor, action, range_from, range_to, rows_deleted, details)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [actor, action, from, to, rows, JSON.stringify(details)],
    );
  }
}
