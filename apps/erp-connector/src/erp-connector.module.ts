import { Module } from '@nestjs/common';
import { clockFromEnv, ConfigModule } from '@switchboard/config';
import { CrmModule } from '@switchboard/crm';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { BrokerProbe, ConsumerProbe, MessagingModule } from '@switchboard/messaging';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { CatalogProjector } from './catalog.projector';
import { CLOCK } from './clock';
import { DocumentProjector } from './document.projector';
import { ErpHandler } from './erp.handler';

export const ERP_CONNECTOR_SECTIONS = ['database', 'amqp', 'erpConnector', 'crm', 'log'] as const;

@Module({
  imports: [
    ConfigModule.forRoot([...ERP_CONNECTOR_SECTIONS]),
    DatabaseModule,
    MessagingModule,
    CrmModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe, BrokerProbe, ConsumerProbe]),
  ],
  controllers: [ErpHandler],
  providers: [CatalogProjector, DocumentProjector, { provide: CLOCK, useValue: clockFromEnv() }],
})
export class ErpConnectorModule {}
