import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AccessLogPartitions, MaintenanceResult } from './access-log.partitions';

/**
 * Keeps access_log partitioned: at start and every accessLog.maintenanceIntervalSeconds, day partitions for
 * yesterday .. today + partitionsAheadDays are created and expired ones dropped (AccessLogPartitions.maintain).
 * Runs in the console; replicas serialize on an advisory lock. A failed pass is logged and retried next time.
 */
@Injectable()
export class AccessLogMaintenance implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AccessLogMaintenance');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<MaintenanceResult | null> | null = null;
  private stopped = false;

  constructor(
    private readonly partitions: AccessLogPartitions,
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

  /** One pass now (skipped when one is already running); never rejects. */
  runOnce(now = new Date()): Promise<MaintenanceResult | null> {
    if (this.stopped) return Promise.resolve(null);
    if (this.running) return this.running;
    this.running = this.partitions
      .maintain(now, this.config.accessLog.partitionsAheadDays)
      .then((r) => {
        if (r.created.length || r.dropped.length || r.deletedFromDefault) {
          this.logger.log(
            `partitions created: ${r.created.join(', ') || 'none'}; dropped: ${r.dropped.join(', ') || 'none'}; ` +
              `rows deleted from default: ${r.deletedFromDefault}`,
          );
        }
        return r;
      })
      .catch((err: Error) => {
        this.logger.warn(`access log maintenance failed (retried in the next pass): ${err.message}`);
        return null;
      })
      .finally(() => {
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
}

/** Partition maintenance for the console: AccessLogPartitions (exported) and its scheduler. Needs AppConfig. */
@Module({
  providers: [AccessLogPartitions, AccessLogMaintenance],
  exports: [AccessLogPartitions, AccessLogMaintenance],
})
export class AccessLogMaintenanceModule {}
