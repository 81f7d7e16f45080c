import { Module } from '@nestjs/common';
import { ConfigModule } from '@switchboard/config';
import { CrmModule } from '@switchboard/crm';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { PeerSecurityModule } from '@switchboard/peer-auth';
import { AccessLogMaintenance, AccessLogModule, AccessLogPartitions } from '@switchboard/access-log';
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
import { CLOCK, systemClock } from './leads/clock';
import { LeadReportService } from './leads/lead-report.service';
import { LeadsController } from './leads/leads.controller';
import { LeadsService } from './leads/leads.service';
import { ManagersController } from './leads/managers.controller';
import { TasksController } from './leads/tasks.controller';
import { CredentialExpiryMonitor, PeerAdminProvider } from './peer-admin.provider';
import { PeersController } from './peers.controller';

@Module({
  imports: [
    ConfigModule.forRoot(['database', 'amqp', 'console', 'crm', 'peerAuth', 'alerts', 'accessLog', 'log']),
    PeerSecurityModule,
    DatabaseModule,
    CrmModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe]),
    OperatorsModule,
    AlertsModule,
    AccessLogModule,
  ],
  controllers: [
    CrmController,
    ErpController,
    PeersController,
    AccessLogController,
    LeadsController,
    ManagersController,
    TasksController,
  ],
  providers: [
    CrmQueryService,
    ErpReadRepository,
    CallQueryService,
    PeerAdminProvider,
    CredentialExpiryMonitor,
    AccessLogQueryService,
    AccessLogPartitions,
    AccessLogMaintenance,
    ConsoleAccessLog,
    LeadsService,
    LeadReportService,
    { provide: CLOCK, useValue: systemClock },
  ],
})
export class ConsoleModule {}
