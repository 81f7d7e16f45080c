import { Module } from '@nestjs/common';
import { ConfigModule } from '@switchboard/config';
import { CrmModule } from '@switchboard/crm';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { BrokerProbe, ConsumerProbe, MessagingModule } from '@switchboard/messaging';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { FaultInjector } from './fault-injector';
import { OrderHandler } from './order.handler';
import { OrderProjector } from './order.projector';

@Module({
  imports: [
    ConfigModule.forRoot(['database', 'amqp', 'websiteConnector', 'crm', 'log']),
    DatabaseModule,
    MessagingModule,
    CrmModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe, BrokerProbe, ConsumerProbe], { metricsOnThisListener: true }),
  ],
  controllers: [OrderHandler],
  providers: [OrderProjector, FaultInjector],
})
export class WebsiteConnectorModule {}
