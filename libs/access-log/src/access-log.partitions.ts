import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  DayPartition,
  dayPartitionName,
  dayPartitionsBetween,
  DayPartitionedTable,
  Db,
  MaintainedTable,
  maintenanceDb,
  maintenanceWindow,
  MaintenanceResult,
  parseDayPartitionName,
  PartitionInfo,
  retentionCutoff,
  RetentionResult,
  Sql,
} from '@switchboard/database';
import { DataSource } from 'typeorm';

// The day-partition helper lives in @switchboard/database (the inbox uses it too); these are its access_log
// bindings, kept under their old names for the console, the CLI and the specs.
export {
  DAY_MS,
  expiredPartitions,
  maintenanceWindow,
  MAINTENANCE_LOCK_KEY,
  partitionsInside,
  retentionCutoff,
  utcDay,
} from '@switchboard/database';
export type { DayPartition, MaintenanceResult, PartitionInfo, RetentionResult } from '@switchboard/database';

const TABLE = 'access_log';
export const DEFAULT_PARTITION = 'access_log_default';
/** Optional override of accessLog.retentionDays for AccessLogPartitions (tests, tools). */
export const ACCESS_LOG_RETENTION_DAYS = Symbol('ACCESS_LOG_RETENTION_DAYS');

export const partitionName = (day: Date): string => dayPartitionName(TABLE, day);
export const parsePartitionName = (name: string): DayPartition | null => parseDayPartitionName(TABLE, name);
export const daysBetween = (from: Date, to: Date): DayPartition[] => dayPartitionsBetween(TABLE, from, to);

/**
 * Day partitions of access_log (DayPartitionedTable) with the log's own rules: retention after
 * accessLog.retentionDays, and every deletion (retention or an operator's) audited in access_log_audit in
 * the same transaction.
 */
@Injectable()
export class AccessLogPartitions implements OnApplicationShutdown, MaintainedTable {
  readonly table = TABLE;
  private readonly db: Db;
  private readonly parts: DayPartitionedTable;
  private readonly retentionDays: number | null;

  /**
   * With AppConfig (how Nest builds it): a small pool of its own (2 connections) on database.url, ended by
   * close() or app shutdown, and accessLog.retentionDays. With a DataSource (the CLI): that connection, borrowed;
   * retentionDays then comes from the second argument (applyRetention needs it).
   */
  constructor(
    @Inject(AppConfig) source: AppConfig | DataSource,
    @Optional() @Inject(ACCESS_LOG_RETENTION_DAYS) retentionDays?: number,
  ) {
    this.retentionDays =
      retentionDays ?? (source instanceof DataSource ? null : source.accessLog.retentionDays);
    this.db = maintenanceDb(source, 'access-log-maintenance');
    this.parts = new DayPartitionedTable(this.db, TABLE, 'started_at');
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Creates the missing day partitions for [from, to); rows the default partition holds for them move in. */
  ensure(from: Date, to: Date): Promise<string[]> {
    return this.parts.ensure(from, to);
  }

  /** Drops day partitions older than retentionDays and deletes such rows from the default partition. */
  async applyRetention(now = new Date()): Promise<RetentionResult> {
    if (this.retentionDays === null) throw new Error('applyRetention: retentionDays not given');
    const retentionDays = this.retentionDays;
    const cutoff = retentionCutoff(now, retentionDays);
    return this.db.transaction(async (c) => {
      const { dropped, deletedFromDefault, rowsInDropped } = await this.parts.expire(c, cutoff);
      await this.audit(c, 'retention', 'retention', null, cutoff, rowsInDropped + deletedFromDefault, {
        retentionDays,
        droppedPartitions: dropped,
        rowsInDroppedPartitions: rowsInDropped,
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
      const r = await this.parts.deleteRange(c, from, to);
      const total = r.rowsInDropped + r.rowsDeleted;
      await this.audit(c, actor, 'delete', from, to, total, {
        droppedPartitions: r.dropped,
        rowsInDroppedPartitions: r.rowsInDropped,
        rowsDeleted: r.rowsDeleted,
      });
      return total;
    });
  }

  /** Day partitions in time order, then the default partition, with exact row counts. */
  list(): Promise<PartitionInfo[]> {
    return this.parts.list();
  }

  /** One maintenance pass: partitions for yesterday .. today + aheadDays, then retention. */
  async maintain(now: Date, aheadDays: number): Promise<MaintenanceResult> {
    const window = maintenanceWindow(now, aheadDays);
    const created = await this.ensure(window.from, window.to);
    return { created, ...(await this.applyRetention(now)) };
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
