import { Module } from '@nestjs/common';
import { ConfigModule } from '@switchboard/config';
import { BrokerProbe, MessagingModule } from '@switchboard/messaging';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { IngestService } from './ingest.service';
import { PeerAuthGuard } from './peer-auth.guard';
import { WebsiteController } from './website.controller';

@Module({
  imports: [
    ConfigModule.forRoot(['amqp', 'gateway', 'log']),
    MessagingModule,
    MetricsModule,
    HealthModule.forProbes([BrokerProbe]),
  ],
  controllers: [WebsiteController],
  providers: [IngestService, PeerAuthGuard],
})
export class GatewayModule {}
