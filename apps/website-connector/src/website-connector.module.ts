import { Module } from '@nestjs/common';
import { clockFromEnv, ConfigModule } from '@switchboard/config';
import { CrmModule } from '@switchboard/crm';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { BrokerProbe, ConsumerProbe, MessagingModule } from '@switchboard/messaging';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { CLOCK } from './clock';
import { CustomerHandler } from './customer.handler';
import { CustomerProjector } from './customer.projector';
import { FaultInjector } from './fault-injector';
import { LeadHandler } from './lead.handler';
import { LeadProjector } from './lead.projector';
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
  controllers: [OrderHandler, LeadHandler, CustomerHandler],
  providers: [
    OrderProjector,
    LeadProjector,
    CustomerProjector,
    FaultInjector,
    { provide: CLOCK, useValue: clockFromEnv() },
  ],
})
export class WebsiteConnectorModule {}
