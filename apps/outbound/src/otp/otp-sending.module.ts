import { Module } from '@nestjs/common';
import { AccessLogModule } from '@switchboard/access-log';
import { NotificationsModule } from '@switchboard/notifications';
import { MetricsModule } from '@switchboard/observability';
import { OrderStatusMessages } from '../messages/order-status-messages.service';
import { MessageSender } from './message-sender.service';
import { MessagesLoop } from './messages-loop.service';
import { SmsGateway, SmsRuGateway } from './sms-gateway';
import { WhatsAppCloudClient } from './whatsapp-cloud.client';

/** The config sections this module reads (add them to the app's ConfigModule.forRoot). */
export const OTP_SENDING_SECTIONS = ['database', 'notifications', 'accessLog'] as const;

/**
 * Customer messages from apps/outbound: one-time codes and order-status notices over WhatsApp with SMS fallback
 * (issue 16.4, 16.5). Needs ConfigModule (OTP_SENDING_SECTIONS), PeerSecurityModule (SecretBox) and the
 * migrations (DatabaseModule) in the app that imports it.
 */
@Module({
  imports: [NotificationsModule, AccessLogModule, MetricsModule],
  providers: [
    WhatsAppCloudClient,
    { provide: SmsGateway, useClass: SmsRuGateway },
    MessageSender,
    OrderStatusMessages,
    MessagesLoop,
  ],
  exports: [MessageSender, OrderStatusMessages],
})
export class OtpSendingModule {}
