import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { DataSource } from 'typeorm';
import { Db, MaintainedTable, maintenanceDb, MaintenanceResult, retentionCutoff } from './day-partitions';

/** Optional override of database.trafficRetentionDays for TrafficRetention (tests, tools). */
export const TRAFFIC_RETENTION_DAYS = Symbol('TRAFFIC_RETENTION_DAYS');

/** Rows deleted per statement: short transactions, and a first pass over a long history does not hold locks long. */
const ROWS_PER_STATEMENT = 5000;

/**
 * What each table keeps, as the WHERE of its delete: $1 is the cutoff (now - database.trafficRetentionDays).
 * Only rows nothing will read or change again go:
 * - outbound_deliveries: settled ones (delivered, failed, superseded), not pending ones (a paused endpoint's
 *   deliveries wait for it however long);
 * - message_deliveries of order-status notices: given up on (give_up_at) before the cutoff, whatever their last
 *   provider status; those of one-time codes go with their code;
 * - otp_codes: expired before the cutoff (rate limits count the last hours, a code is useless after its expiry);
 *   ON DELETE CASCADE takes their message rows;
 * - crm_changes (the outbox): behind every reader's cursor (crm_change_cursors; with no reader yet, none go) and
 *   older than the cutoff.
 */
const RULES: ReadonlyArray<{ table: string; key: string; where: string }> = [
  {
    table: 'outbound_deliveries',
    key: 'id',
    where: `status <> 'pending' AND created_at < $1`,
  },
  {
    table: 'message_deliveries',
    key: 'id',
    where: `kind = 'order_status' AND give_up_at < $1 AND created_at < $1`,
  },
  { table: 'otp_codes', key: 'id', where: `expires_at < $1` },
  {
    table: 'crm_changes',
    key: 'seq',
    where: `created_at < $1 AND seq <= (SELECT min(seq) FROM crm_change_cursors)`,
  },
];

/**
 * The tables that grow with traffic rather than with business data and are not day-partitioned (issue 20): the
 * outbox, outbound deliveries, customer messages and one-time codes. Each pass deletes what is older than
 * database.trafficRetentionDays by the rules above, a bounded number of rows per statement, so they hold a window
 * of history however long the system runs. Run by PartitionMaintenance (the console) with the partitioned tables.
 */
@Injectable()
export class TrafficRetention implements OnApplicationShutdown, MaintainedTable {
  readonly table = 'crm_changes, outbound_deliveries, message_deliveries, otp_codes';
  readonly retentionDays: number;
  private readonly db: Db;

  /** With AppConfig: a small pool of its own on database.url. With a DataSource (CLI, tests): borrowed. */
  constructor(
    @Inject(AppConfig) source: AppConfig | DataSource,
    @Optional() @Inject(TRAFFIC_RETENTION_DAYS) retentionDays?: number,
  ) {
    const days =
      retentionDays ?? (source instanceof DataSource ? undefined : source.database.trafficRetentionDays);
    if (days === undefined) throw new Error('TrafficRetention on a DataSource needs retentionDays');
    this.retentionDays = days;
    this.db = maintenanceDb(source, 'traffic-retention');
  }

  /** Rows deleted per table (tables with none left out). */
  async applyRetention(now = new Date()): Promise<Record<string, number>> {
    const cutoff = retentionCutoff(now, this.retentionDays);
    const deleted: Record<string, number> = {};
    for (const rule of RULES) {
      let total = 0;
      for (;;) {
        const { rows } = await this.db.query<{ n: number }>(
          `WITH gone AS (
             DELETE FROM ${rule.table} WHERE ${rule.key} IN (
               SELECT ${rule.key} FROM ${rule.table} WHERE ${rule.where} LIMIT ${ROWS_PER_STATEMENT})
             RETURNING 1)
           SELECT count(*)::int AS n FROM gone`,
          [cutoff],
        );
        total += rows[0].n;
        if (rows[0].n < ROWS_PER_STATEMENT) break;
      }
      if (total > 0) deleted[rule.table] = total;
    }
    return deleted;
  }

  async maintain(now: Date): Promise<MaintenanceResult> {
    const deleted = await this.applyRetention(now);
    return { created: [], dropped: [], deletedFromDefault: 0, deleted };
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
