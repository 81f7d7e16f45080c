import { Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';

/**
 * Day partitions of a table range-partitioned on one time column (access_log on started_at, processed_events
 * on received_on): `<table>_pYYYYMMDD` per UTC day plus `<table>_default`, which keeps rows
 * no day partition covers, so nothing is lost when maintenance fell behind. One implementation for every such
 * table: creation ahead of time, retention by dropping whole partitions, deletion of a range, listing.
 */
export const DAY_MS = 86_400_000;
/** pg_advisory_xact_lock key serializing partition maintenance (every table) across replicas and the CLI. */
export const MAINTENANCE_LOCK_KEY = 7_346_001_175;

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
  /** Rows a retention job deleted, by table (unpartitioned tables: TrafficRetention). */
  deleted?: Record<string, number>;
}

// ---- pure naming and range math (UTC days) ----

export function utcDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

export function dayPartitionName(table: string, day: Date): string {
  return `${table}_p${utcDay(day).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

export function defaultPartitionName(table: string): string {
  return `${table}_default`;
}

/**
 * The range of a partition named by dayPartitionName (its first day), `spanDays` long, or null for any other
 * name.
 */
export function parseDayPartitionName(table: string, name: string, spanDays = 1): DayPartition | null {
  if (!name.startsWith(`${table}_p`)) return null;
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(name.slice(table.length + 2));
  if (!m) return null;
  const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (dayPartitionName(table, from) !== name) return null; // 20250230 and the like
  return { name, from, to: new Date(from.getTime() + spanDays * DAY_MS) };
}

/**
 * Every partition overlapping [from, to): one per UTC day, or per `spanDays` days aligned on the epoch (day
 * number divisible by spanDays), so every replica cuts the same ranges.
 */
export function dayPartitionsBetween(table: string, from: Date, to: Date, spanDays = 1): DayPartition[] {
  const out: DayPartition[] = [];
  const span = spanDays * DAY_MS;
  for (let t = Math.floor(from.getTime() / span) * span; t < to.getTime(); t += span) {
    const day = new Date(t);
    out.push({ name: dayPartitionName(table, day), from: day, to: new Date(t + span) });
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

// ---- connections ----

/** What the partition code needs of a connection: one statement with rows and a row count. */
export interface Sql {
  query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number }>;
}

export interface Db extends Sql {
  /** One transaction on one connection, holding the maintenance advisory lock. */
  transaction<T>(fn: (c: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The Db of a maintenance class: with AppConfig (how Nest builds it) a small pool of its own on database.url,
 * with a DataSource (the CLI, tests) that connection, borrowed. close() may be called more than once.
 */
export function maintenanceDb(source: AppConfig | DataSource, label: string): Db {
  return source instanceof DataSource ? dataSourceDb(source) : maintenancePoolDb(source.database.url, label);
}

/** A small pool of its own (2 connections) on the URL; close() ends it (once, however often called). */
export function maintenancePoolDb(url: string, label: string): Db {
  const pool = new Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: 5000,
    application_name: `${process.title}:${label}`.slice(0, 63),
  });
  pool.on('error', (err) => new Logger(label).warn(`pool: ${err.message}`));
  let ended: Promise<void> | undefined;
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
    close: () => (ended ??= pool.end().catch(() => undefined)),
  };
}

/** On an application's TypeORM DataSource (the CLI's, a test's): borrowed, so close() leaves it open. */
export function dataSourceDb(ds: DataSource): Db {
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

// ---- the table ----

/**
 * One range-by-day partitioned table. Every change runs in one transaction holding the maintenance advisory
 * lock, so replicas (and the CLI) never race; locks are taken parent first, then partitions, the order
 * inserts use.
 */
export class DayPartitionedTable {
  readonly defaultPartition: string;

  constructor(
    readonly db: Db,
    /** Parent table; trusted identifier (a constant of the code, never input). */
    readonly table: string,
    /**
     * The partition key column: timestamptz, or date (UTC days). Bounds and cutoffs are passed as ISO
     * strings, which both types read the same way whatever the session's time zone.
     */
    readonly column: string,
    /**
     * How the rows of a partition about to be dropped are counted: exactly (the access log audits them), or
     * from the planner's statistics (the inbox: counting a day of markers would scan tens of millions of rows).
     */
    private readonly droppedRows: 'exact' | 'estimate' = 'exact',
    /** Days per partition (1: a partition per day). Fewer, longer partitions: fewer to plan and probe. */
    readonly spanDays = 1,
  ) {
    this.defaultPartition = defaultPartitionName(table);
  }

  /** Creates the missing day partitions for [from, to); rows the default partition holds for them move in. */
  async ensure(from: Date, to: Date): Promise<string[]> {
    const existing = new Set((await this.partitions(this.db)).map((p) => p.name));
    const created: string[] = [];
    for (const day of dayPartitionsBetween(this.table, from, to, this.spanDays)) {
      if (existing.has(day.name)) continue;
      const made = await this.db.transaction(async (c) => {
        // Re-checked under the lock: another replica may have made it meanwhile.
        if ((await this.partitions(c)).some((p) => p.name === day.name)) return false;
        await c.query(`LOCK TABLE ${this.table} IN SHARE UPDATE EXCLUSIVE MODE`);
        await c.query(`LOCK TABLE ${this.defaultPartition} IN EXCLUSIVE MODE`);
        // Built standalone, filled from the default partition, then attached: attaching with rows for this
        // day still in the default partition would fail, and nothing can land there while it is locked.
        await c.query(
          `CREATE TABLE ${day.name} (LIKE ${this.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
        );
        await c.query(
          `WITH moved AS (DELETE FROM ${this.defaultPartition} WHERE ${this.column} >= $1 AND ${this.column} < $2 RETURNING *)
           INSERT INTO ${day.name} SELECT * FROM moved`,
          [day.from.toISOString(), day.to.toISOString()],
        );
        await c.query(
          `ALTER TABLE ${this.table} ATTACH PARTITION ${day.name} FOR VALUES FROM (${literal(day.from)}) TO (${literal(day.to)})`,
        );
        return true;
      });
      if (made) created.push(day.name);
    }
    return created;
  }

  /**
   * Inside a maintenance transaction: drops the day partitions wholly before the cutoff and deletes such rows
   * from the default partition. Returns what went and how many rows the dropped partitions held.
   */
  async expire(c: Sql, cutoff: Date): Promise<RetentionResult & { rowsInDropped: number }> {
    const expired = expiredPartitions(await this.partitions(c), cutoff);
    const rowsInDropped = await this.drop(c, expired);
    const del = await c.query(`DELETE FROM ${this.defaultPartition} WHERE ${this.column} < $1`, [
      cutoff.toISOString(),
    ]);
    return { dropped: expired.map((p) => p.name), deletedFromDefault: del.rowCount, rowsInDropped };
  }

  /** Inside a maintenance transaction: drops whole partitions inside [from, to), deletes the rest of it. */
  async deleteRange(
    c: Sql,
    from: Date,
    to: Date,
  ): Promise<{ dropped: string[]; rowsInDropped: number; rowsDeleted: number }> {
    const inside = partitionsInside(await this.partitions(c), from, to);
    const rowsInDropped = await this.drop(c, inside);
    const del = await c.query(
      `DELETE FROM ${this.table} WHERE ${this.column} >= $1 AND ${this.column} < $2`,
      [from.toISOString(), to.toISOString()],
    );
    return { dropped: inside.map((p) => p.name), rowsInDropped, rowsDeleted: del.rowCount };
  }

  /** Day partitions in time order, then the default partition, with exact row counts. */
  async list(): Promise<PartitionInfo[]> {
    const parts = await this.partitions(this.db);
    const out: PartitionInfo[] = [];
    for (const p of parts) out.push({ ...p, rows: await this.count(this.db, p.name) });
    out.push({
      name: this.defaultPartition,
      from: null,
      to: null,
      rows: await this.count(this.db, this.defaultPartition),
    });
    return out;
  }

  /** The day partitions attached now, in time order. */
  async partitions(db: Sql): Promise<DayPartition[]> {
    const { rows } = await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = $1::regclass`,
      [this.table],
    );
    return rows
      .map((r) => parseDayPartitionName(this.table, r.name, this.spanDays))
      .filter((p): p is DayPartition => p !== null)
      .sort((a, b) => a.from.getTime() - b.from.getTime());
  }

  private async count(db: Sql, table: string): Promise<number> {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return Number(rows[0].n);
  }

  private async estimate(db: Sql, table: string): Promise<number> {
    const { rows } = await db.query<{ n: string }>(
      `SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = $1::regclass`,
      [table],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async drop(c: Sql, parts: DayPartition[]): Promise<number> {
    if (!parts.length) return 0;
    // Parent first (as inserts lock it), so dropping never deadlocks with a writer.
    await c.query(`LOCK TABLE ${this.table} IN ACCESS EXCLUSIVE MODE`);
    let rows = 0;
    for (const p of parts) {
      rows += this.droppedRows === 'exact' ? await this.count(c, p.name) : await this.estimate(c, p.name);
      await c.query(`DROP TABLE ${p.name}`);
    }
    return rows;
  }
}

/** A table that a maintenance pass keeps: partitions ahead created, expired ones dropped. */
export interface MaintainedTable {
  readonly table: string;
  maintain(now: Date, aheadDays: number): Promise<MaintenanceResult>;
}
