import { Module } from '@nestjs/common';
import { ConfigModule } from '@switchboard/config';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { PeerSecurityModule } from '@switchboard/peer-auth';
import { AdminAuthGuard } from './admin-auth.guard';
import { CallQueryService } from './call-query.service';
import { CrmController } from './crm.controller';
import { CrmQueryService } from './crm-query.service';
import { CredentialExpiryMonitor, PeerAdminProvider } from './peer-admin.provider';
import { PeersController } from './peers.controller';

@Module({
  imports: [
    ConfigModule.forRoot(['database', 'console', 'crm', 'peerAuth', 'log']),
    PeerSecurityModule,
    DatabaseModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe]),
  ],
  controllers: [CrmController, PeersController],
  providers: [CrmQueryService, CallQueryService, AdminAuthGuard, PeerAdminProvider, CredentialExpiryMonitor],
})
export class ConsoleModule {}
