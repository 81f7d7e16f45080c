import { Module } from '@nestjs/common';
import { InboxPartitions, MAINTAINED_TABLES, PartitionMaintenance } from '@switchboard/database';
import { AccessLogPartitions } from './access-log.partitions';

/**
 * Partition maintenance for the console: one scheduler (PartitionMaintenance) for every day-partitioned table —
 * the access log (accessLog.retentionDays) and the inbox markers (database.idempotencyWindowDays). Needs AppConfig.
 */
export const PARTITION_MAINTENANCE_PROVIDERS = [
  AccessLogPartitions,
  InboxPartitions,
  {
    provide: MAINTAINED_TABLES,
    useFactory: (accessLog: AccessLogPartitions, inbox: InboxPartitions) => [accessLog, inbox],
    inject: [AccessLogPartitions, InboxPartitions],
  },
  PartitionMaintenance,
];

@Module({
  providers: PARTITION_MAINTENANCE_PROVIDERS,
  exports: [AccessLogPartitions, InboxPartitions, PartitionMaintenance],
})
export class PartitionMaintenanceModule {}
