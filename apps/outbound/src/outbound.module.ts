import { Module } from '@nestjs/common';
import { ConfigModule } from '@switchboard/config';
import { DatabaseModule, DatabaseProbe } from '@switchboard/database';
import { HealthModule, MetricsModule } from '@switchboard/observability';
import { PeerSecurityModule } from '@switchboard/peer-auth';
import { OTP_SENDING_SECTIONS, OtpSendingModule } from './otp/otp-sending.module';

// Minimal app shell so the message sender runs before helper A's outbound webhooks land; A's OutboundModule
// replaces this file and imports OtpSendingModule.
export const OUTBOUND_SECTIONS = [...OTP_SENDING_SECTIONS, 'outbound', 'log'] as const;

@Module({
  imports: [
    ConfigModule.forRoot([...OUTBOUND_SECTIONS]),
    PeerSecurityModule,
    DatabaseModule,
    MetricsModule,
    HealthModule.forProbes([DatabaseProbe], { metricsOnThisListener: true }),
    OtpSendingModule,
  ],
})
export class OutboundModule {}
