import { Module } from '@nestjs/common';
import { ConfigModule } from '@switchboard/config';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { AdminAuthGuard } from './admin-auth.guard';
import { CrmController } from './crm.controller';
import { CrmQueryService } from './crm-query.service';

@Module({
  imports: [
    ConfigModule.forRoot(['database', 'console', 'crm', 'log']),
    DatabaseModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe]),
  ],
  controllers: [CrmController],
  providers: [CrmQueryService, AdminAuthGuard],
})
export class ConsoleModule {}
