import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  DeliveriesStore,
  otpSealContext,
  ProviderCredentials,
  type DeliveryChange,
  type DeliveryEvent,
  type DeliveryRow,
} from '@switchboard/notifications';
import { Metrics } from '@switchboard/observability';
import { SecretBox } from '@switchboard/secrets';
import { SmsGateway } from './sms-gateway';
import { WhatsAppCloudClient } from './whatsapp-cloud.client';

/**
 * Sends what message_deliveries says is due: WhatsApp first, SMS when the state machine says so (no WhatsApp,
 * WhatsApp refused, failed or silent past the fallback time). Each step is one provider call followed by one
 * stored event, so a restart resumes from the table; a sender that dies between the two leaves a lease that
 * expires and the step is retried (the provider may then see the message twice, never zero times).
 */
@Injectable()
export class MessageSender {
  private readonly logger = new Logger('MessageSender');
  private readonly sent: ReturnType<Metrics['counter']>;

  constructor(
    private readonly deliveries: DeliveriesStore,
    private readonly credentials: ProviderCredentials,
    private readonly whatsapp: WhatsAppCloudClient,
    private readonly sms: SmsGateway,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
    metrics: Metrics,
  ) {
    this.sent = metrics.counter(
      'switchboard_messages_sent_total',
      'Customer messages handed to a provider, by kind (otp, order_status), channel and outcome (accepted, refused)',
      ['kind', 'channel', 'outcome'],
    );
  }

  /** One pass: claims due rows and moves each one step (or two: WhatsApp refused, then SMS). Returns how many. */
  async runOnce(limit = 20): Promise<number> {
    const rows = await this.deliveries.claimDue(limit);
    await Promise.all(
      rows.map((row) =>
        this.process(row).catch((err: Error) => this.logger.error(`delivery ${row.id}: ${err.message}`)),
      ),
    );
    return rows.length;
  }

  private apply(row: DeliveryRow, event: DeliveryEvent): Promise<DeliveryChange | null> {
    return this.deliveries.apply({ id: row.id }, event, {
      fallbackSeconds: this.config.notifications.whatsappFallbackSeconds,
    });
  }

  private async process(row: DeliveryRow): Promise<void> {
    if (row.kind === 'otp' && (row.otp_live === false || row.sealed_code === null)) {
      await this.apply(row, { type: 'cancel' });
      return;
    }
    let state = row.state;
    if (state === 'whatsapp_sent') state = (await this.apply(row, { type: 'fallback_due' }))?.state ?? state;
    if (state === 'pending') state = (await this.sendWhatsApp(row))?.state ?? state;
    if (state === 'sms_pending') await this.sendSms(row);
  }

  private async sendWhatsApp(row: DeliveryRow): Promise<DeliveryChange | null> {
    const creds = await this.credentials.get('whatsapp');
    if (!creds)
      return this.apply(row, { type: 'whatsapp_refused', error: 'WHATSAPP_NOT_CONFIGURED', permanent: true });
    const code = row.kind === 'otp' ? this.code(row) : undefined;
    const result = await this.whatsapp.sendTemplate(creds, {
      to: row.phone,
      template: row.template,
      language: row.language,
      bodyParams: code !== undefined ? [code] : row.params,
      copyCode: code,
    });
    this.sent.inc({ kind: row.kind, channel: 'whatsapp', outcome: result.ok ? 'accepted' : 'refused' });
    if (result.ok) return this.apply(row, { type: 'whatsapp_accepted', messageId: result.id });
    this.logger.warn(`delivery ${row.id}: WhatsApp refused (${result.error})`);
    return this.apply(row, { type: 'whatsapp_refused', error: result.error, permanent: result.permanent });
  }

  private async sendSms(row: DeliveryRow): Promise<void> {
    const text =
      row.kind === 'otp'
        ? this.config.notifications.otp.smsText.replaceAll('{code}', this.code(row))
        : (row.sms_text ?? '');
    const result = await this.sms.send(row.phone, text);
    this.sent.inc({ kind: row.kind, channel: 'sms', outcome: result.ok ? 'accepted' : 'refused' });
    if (result.ok) await this.apply(row, { type: 'sms_accepted', smsId: result.id });
    else {
      this.logger.warn(`delivery ${row.id}: SMS refused (${result.error})`);
      await this.apply(row, { type: 'sms_refused', error: result.error, permanent: result.permanent });
    }
  }

  /** The code, opened only in memory for the send that needs it. */
  private code(row: DeliveryRow): string {
    return this.box.openString(row.sealed_code!, otpSealContext(row.otp_id!));
  }
}
