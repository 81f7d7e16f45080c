import { Module } from '@nestjs/common';
import { clockFromEnv, ConfigModule } from '@switchboard/config';
import { OpenApiModule } from '@switchboard/http';
import { CrmModule } from '@switchboard/crm';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { OutboundDeliveries, PeerSecurityModule, sqlFromDataSource } from '@switchboard/peer-auth';
import { DataSource } from 'typeorm';
import { AccessLogModule, PARTITION_MAINTENANCE_PROVIDERS } from '@switchboard/access-log';
import { AccessLogQueryService } from './access-log-query.service';
import { AccessLogController } from './access-log.controller';
import { OperatorsModule } from './operators/operators.module';
import { AlertsModule } from './alerts/alerts.module';
import { CallQueryService } from './call-query.service';
import { ConsoleAccessLog } from './console-access-log.hook';
import { CrmController } from './crm.controller';
import { CrmQueryService } from './crm-query.service';
import { ErpReadRepository } from '@switchboard/crm';
import { ErpController } from './erp/erp.controller';
import { CLOCK } from './leads/clock';
import { ContactsController } from './customers/contacts.controller';
import { CustomersService } from './customers/customers.service';
import { LoyaltyJob } from './customers/loyalty.job';
import { LeadReportService } from './leads/lead-report.service';
import { LeadsController } from './leads/leads.controller';
import { LeadsService } from './leads/leads.service';
import { ManagersController } from './leads/managers.controller';
import { TasksController } from './leads/tasks.controller';
import { CredentialExpiryMonitor, PeerAdminProvider } from './peer-admin.provider';
import { PeersController } from './peers.controller';
import { WEB_CONTROLLERS, WEB_PROVIDERS } from './web';
import { OutboundController } from './outbound/outbound.controller';

@Module({
  imports: [
    ConfigModule.forRoot(['database', 'amqp', 'console', 'crm', 'peerAuth', 'alerts', 'accessLog', 'log']),
    PeerSecurityModule,
    DatabaseModule,
    CrmModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe]),
    OpenApiModule.forRoot({
      title: 'Switchboard console',
      version: '1',
      description: 'Operators: CRM data, leads, peers, access log, alerts.',
      securityByGuard: { OperatorGuard: [['bearer'], ['operatorSession']] },
    }),
    OperatorsModule,
    AlertsModule,
    AccessLogModule,
  ],
  controllers: [
    CrmController,
    ContactsController,
    ErpController,
    PeersController,
    AccessLogController,
    LeadsController,
    ManagersController,
    TasksController,
    ...WEB_CONTROLLERS,
    OutboundController,
  ],
  providers: [
    CrmQueryService,
    ErpReadRepository,
    CallQueryService,
    PeerAdminProvider,
    CredentialExpiryMonitor,
    AccessLogQueryService,
    ...PARTITION_MAINTENANCE_PROVIDERS,
    ConsoleAccessLog,
    LeadsService,
    LeadReportService,
    CustomersService,
    LoyaltyJob,
    { provide: CLOCK, useValue: clockFromEnv() },
    ...WEB_PROVIDERS,
    {
      provide: OutboundDeliveries,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new OutboundDeliveries(sqlFromDataSource(ds)),
    },
  ],
})
export class ConsoleModule {}
