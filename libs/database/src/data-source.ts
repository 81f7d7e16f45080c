import { CRM_ENTITIES } from '@switchboard/crm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from 'typeorm-naming-strategies';
import { InitialCrm1763800000000 } from './migrations/1763800000000-initial-crm';
import { DealPaidAtVersion1763900000000 } from './migrations/1763900000000-deal-paid-at-version';
import { Peers1764000000000 } from './migrations/1764000000000-peers';
import { CallLogs1764100000000 } from './migrations/1764100000000-call-logs';
import { AccessLog1764200000000 } from './migrations/1764200000000-access-log';
import { CallTimesEstimated1765000000000 } from './migrations/1765000000000-call-times-estimated';
import { DealUtmTestDeliveries1765100000000 } from './migrations/1765100000000-deal-utm-test-deliveries';
import { SecurityHardening1765200000000 } from './migrations/1765200000000-security-hardening';
import { WebConsoleIndexes1765400000000 } from './migrations/1765400000000-web-console-indexes';
import { Erp1765600000000 } from './migrations/1765600000000-erp';
import { Leads1765700000000 } from './migrations/1765700000000-leads';
import { CrmChanges1765800000000 } from './migrations/1765800000000-crm-changes';
import { OutboundWebhooks1765810000000 } from './migrations/1765810000000-outbound-webhooks';
import { CustomerSyncLoyalty1765850000000 } from './migrations/1765850000000-customer-sync-loyalty';
import { OtpMessages1765900000000 } from './migrations/1765900000000-otp-messages';
import { LeadIntakeBatch1765950000000 } from './migrations/1765950000000-lead-intake-batch';
import { Operators1765300000000 } from './migrations/1765300000000-operators';
import { OperatorTotpStep1765310000000 } from './migrations/1765310000000-operator-totp-step';
import { PeerOrderEncoding1765975000000 } from './migrations/1765975000000-peer-order-encoding';
import { InboxPartitions1766000000000 } from './migrations/1766000000000-inbox-partitions';
import { AccessLogOneTimeIndex1766100000000 } from './migrations/1766100000000-access-log-one-time-index';
import { ProcessedEvent } from './processed-event.entity';

export const ENTITIES = [...CRM_ENTITIES, ProcessedEvent];
export const MIGRATIONS = [
  InitialCrm1763800000000,
  DealPaidAtVersion1763900000000,
  Peers1764000000000,
  CallLogs1764100000000,
  AccessLog1764200000000,
  CallTimesEstimated1765000000000,
  DealUtmTestDeliveries1765100000000,
  SecurityHardening1765200000000,
  WebConsoleIndexes1765400000000,
  Erp1765600000000,
  Leads1765700000000,
  CrmChanges1765800000000,
  OutboundWebhooks1765810000000,
  CustomerSyncLoyalty1765850000000,
  OtpMessages1765900000000,
  LeadIntakeBatch1765950000000,
  Operators1765300000000,
  OperatorTotpStep1765310000000,
  PeerOrderEncoding1765975000000,
  InboxPartitions1766000000000,
  AccessLogOneTimeIndex1766100000000,
];

export function dataSourceOptions(url: string, poolSize = 10, appName = 'switchboard'): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: appName,
    extra: { max: poolSize, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 },
  };
}

/** Arbitrary but fixed: every process that migrates takes this lock, so only one migrates at a time. */
const MIGRATION_LOCK = 7_263_104_001;

/** Runs pending migrations under a session advisory lock; safe when several replicas start together. */
export async function migrate(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
