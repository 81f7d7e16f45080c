import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { MaintainedTable, MaintenanceResult } from './day-partitions';

/** The tables PartitionMaintenance keeps: day-partitioned (access_log, processed_events) and TrafficRetention's. */
export const MAINTAINED_TABLES = Symbol('MAINTAINED_TABLES');

/**
 * Keeps the day-partitioned tables partitioned: at start and every accessLog.maintenanceIntervalSeconds, day
 * partitions for yesterday .. today + accessLog.partitionsAheadDays are created and expired ones dropped, each
 * table with its own retention. Runs in the console; replicas serialize on an advisory lock. A failed pass is
 * logged and retried next time; one table failing does not keep the others from their pass.
 */
@Injectable()
export class PartitionMaintenance implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PartitionMaintenance');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<Map<string, MaintenanceResult | null>> | null = null;
  private stopped = false;

  constructor(
    @Inject(MAINTAINED_TABLES) private readonly tables: MaintainedTable[],
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.runOnce();
    this.timer = setInterval(
      () => void this.runOnce(),
      this.config.accessLog.maintenanceIntervalSeconds * 1000,
    );
    this.timer.unref();
  }

  /** One pass now over every table (joined when one is already running); never rejects. Per table: null if it failed. */
  runOnce(now = new Date()): Promise<Map<string, MaintenanceResult | null>> {
    if (this.stopped) return Promise.resolve(new Map<string, MaintenanceResult | null>());
    if (this.running) return this.running;
    this.running = this.pass(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async pass(now: Date): Promise<Map<string, MaintenanceResult | null>> {
    const out = new Map<string, MaintenanceResult | null>();
    for (const t of this.tables) {
      try {
        const r = await t.maintain(now, this.config.accessLog.partitionsAheadDays);
        const deleted = Object.entries(r.deleted ?? {});
        if (deleted.length) {
          this.logger.log(
            `${t.table}: rows past retention deleted: ${deleted.map(([table, n]) => `${table} ${n}`).join(', ')}`,
          );
        } else if (r.created.length || r.dropped.length || r.deletedFromDefault) {
          this.logger.log(
            `${t.table}: partitions created: ${r.created.join(', ') || 'none'}; dropped: ${r.dropped.join(', ') || 'none'}; ` +
              `rows deleted from default: ${r.deletedFromDefault}`,
          );
        }
        out.set(t.table, r);
      } catch (err) {
        this.logger.warn(
          `${t.table} maintenance failed (retried in the next pass): ${(err as Error).message}`,
        );
        out.set(t.table, null);
      }
    }
    return out;
  }
}
