import { Module } from '@nestjs/common';
import { ConfigModule } from '@switchboard/config';
import { CrmModule } from '@switchboard/crm';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { BrokerProbe, ConsumerProbe, MessagingModule } from '@switchboard/messaging';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { CallHandler } from './call.handler';
import { CallProjector } from './call.projector';

export const TELEPHONY_CONNECTOR_SECTIONS = [
  'database',
  'amqp',
  'telephonyConnector',
  'crm',
  'telephony',
  'log',
] as const;

@Module({
  imports: [
    ConfigModule.forRoot([...TELEPHONY_CONNECTOR_SECTIONS]),
    DatabaseModule,
    MessagingModule,
    CrmModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe, BrokerProbe, ConsumerProbe], { metricsOnThisListener: true }),
  ],
  controllers: [CallHandler],
  providers: [CallProjector],
})
export class TelephonyConnectorModule {}
