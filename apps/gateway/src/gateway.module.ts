import { Module } from '@nestjs/common';
import { AccessLogModule } from '@switchboard/access-log';
import { ConfigModule } from '@switchboard/config';
import { OpenApiModule } from '@switchboard/http';
import { BrokerProbe, MessagingModule } from '@switchboard/messaging';
import { NotificationsModule } from '@switchboard/notifications';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { PeerSecurityModule } from '@switchboard/peer-auth';
import { GatewayAccessLog } from './access-log.hook';
import { GatewayAuthModule } from './auth/auth.module';
import { PeerDirectoryProbe } from './auth/directory-sync.service';
import { CredentialsController } from './credentials.controller';
import { ErpController } from './erp/erp.controller';
import { ExchangeController } from './erp/exchange/exchange.controller';
import { ExchangeService } from './erp/exchange/exchange.service';
import { ExchangeStore } from './erp/exchange/exchange.store';
import { IngestService } from './ingest.service';
import { MessageWebhooksController } from './otp/message-webhooks.controller';
import { OtpController } from './otp/otp.controller';
import { ProvidersController } from './providers.controller';
import { TelephonyController } from './telephony.controller';
import { WebsiteController } from './website.controller';

/**
 * The ingest routes Fastify serves directly (libs/http fast-routes.ts): the hot path of every website, PBX and
 * ERP event, without Nest's router, guards and interceptors. Providers, not controllers.
 */
export const FAST_ROUTE_CLASSES = [WebsiteController, TelephonyController, ErpController];

export const GATEWAY_SECTIONS = [
  'amqp',
  'gateway',
  'http',
  'database',
  'peerAuth',
  'accessLog',
  'erp',
  'notifications',
  'log',
] as const;

@Module({
  imports: [
    ConfigModule.forRoot([...GATEWAY_SECTIONS]),
    PeerSecurityModule,
    MessagingModule,
    MetricsModule,
    AccessLogModule,
    GatewayAuthModule,
    NotificationsModule,
    HealthModule.forProbes([BrokerProbe, PeerDirectoryProbe]),
    OpenApiModule.forRoot({
      title: 'Switchboard gateway',
      version: '1',
      description: 'Where websites, PBXs and ERPs post their events. 202 = durably accepted.',
      securityByGuard: {
        PeerAuthGuard: [['bearer'], ['basic'], ['apiKey'], ['standardWebhook']],
        ProviderAuthGuard: [['providerSignature']],
      },
    }),
  ],
  controllers: [
    ExchangeController,
    CredentialsController,
    ProvidersController,
    OtpController,
    MessageWebhooksController,
  ],
  providers: [IngestService, GatewayAccessLog, ExchangeService, ExchangeStore, ...FAST_ROUTE_CLASSES],
})
export class GatewayModule {}
