import { Module } from '@nestjs/common';
import { AccessLogModule } from '@switchboard/access-log';
import { ConfigModule } from '@switchboard/config';
import { CrmModule } from '@switchboard/crm';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { OutboundDeliveries, PeerSecurityModule, sqlFromDataSource } from '@switchboard/peer-auth';
import { DataSource } from 'typeorm';
import { OtpSendingModule } from './otp/otp-sending.module';
import { ChangeReader } from './webhooks/change-reader';
import { CLOCK, systemClock } from './webhooks/clock';
import { WebhookLoop } from './webhooks/webhook-loop';
import { WebhookSender } from './webhooks/webhook-sender';

/** Config sections the outbound app validates at start (config/apps.json lists the same; OTP_SENDING_SECTIONS included). */
export const OUTBOUND_SECTIONS = ['database', 'outbound', 'notifications', 'accessLog', 'log'] as const;

@Module({
  imports: [
    ConfigModule.forRoot([...OUTBOUND_SECTIONS]),
    PeerSecurityModule,
    DatabaseModule,
    CrmModule,
    AccessLogModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe], { metricsOnThisListener: true }),
    OtpSendingModule,
  ],
  providers: [
    {
      provide: OutboundDeliveries,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new OutboundDeliveries(sqlFromDataSource(ds)),
    },
    { provide: CLOCK, useValue: systemClock },
    ChangeReader,
    WebhookSender,
    WebhookLoop,
  ],
})
export class OutboundModule {}
