import { Module } from '@nestjs/common';
import {
  InboxPartitions,
  MAINTAINED_TABLES,
  PartitionMaintenance,
  TrafficRetention,
} from '@switchboard/database';
import { AccessLogPartitions } from './access-log.partitions';

/**
 * Partition maintenance for the console: one scheduler (PartitionMaintenance) for every day-partitioned table —
 * the access log (accessLog.retentionDays) and the inbox markers (database.idempotencyWindowDays) — and for the
 * unpartitioned tables that grow with traffic (TrafficRetention, database.trafficRetentionDays). Needs AppConfig.
 */
export const PARTITION_MAINTENANCE_PROVIDERS = [
  AccessLogPartitions,
  InboxPartitions,
  TrafficRetention,
  {
    provide: MAINTAINED_TABLES,
    useFactory: (accessLog: AccessLogPartitions, inbox: InboxPartitions, traffic: TrafficRetention) => [
      accessLog,
      inbox,
      traffic,
    ],
    inject: [AccessLogPartitions, InboxPartitions, TrafficRetention],
  },
  PartitionMaintenance,
];

@Module({
  providers: PARTITION_MAINTENANCE_PROVIDERS,
  exports: [AccessLogPartitions, InboxPartitions, TrafficRetention, PartitionMaintenance],
})
export class PartitionMaintenanceModule {}
