import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Header, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AuthError, NotFoundError } from '@switchboard/contracts';
import {
  DeliveriesStore,
  metaSignatureValid,
  ProviderCredentials,
  smsRuStatuses,
  whatsappStatuses,
} from '@switchboard/notifications';
import type { FastifyRequest } from 'fastify';

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Delivery statuses from the message providers, each checked with the provider's own scheme: Meta's
 * X-Hub-Signature-256 over the raw body (app secret), SMS.ru's secret callback URL (it signs nothing). A status
 * for an unknown message is answered 200 and ignored (the provider would retry it for days otherwise).
 */
@Controller('v1/messaging')
export class MessageWebhooksController {
  constructor(
    private readonly credentials: ProviderCredentials,
    private readonly deliveries: DeliveriesStore,
    private readonly config: AppConfig,
  ) {}

  /** Meta's verification handshake when the webhook URL is saved: echo hub.challenge if the token matches. */
  @Get('whatsapp')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async whatsappHandshake(@Query() query: Record<string, string | undefined>): Promise<string> {
    const creds = await this.credentials.get('whatsapp');
    const token = query['hub.verify_token'];
    if (!creds) throw new NotFoundError('WhatsApp is not configured.');
    if (
      query['hub.mode'] !== 'subscribe' ||
      typeof token !== 'string' ||
      !sameSecret(token, creds.verifyToken)
    )
      throw new AuthError('AUTH_INVALID', 'hub.verify_token does not match.');
    return query['hub.challenge'] ?? '';
  }

  @Post('whatsapp')
  @HttpCode(200)
  async whatsappStatus(
    @Req() req: FastifyRequest & { rawBody?: Buffer },
  ): Promise<{ statuses: number; applied: number }> {
    const creds = await this.credentials.get('whatsapp');
    if (!creds) throw new NotFoundError('WhatsApp is not configured.');
    const signature = req.headers['x-hub-signature-256'];
    if (
      !metaSignatureValid(
        req.rawBody ?? Buffer.alloc(0),
        typeof signature === 'string' ? signature : undefined,
        creds.appSecret,
      )
    )
      throw new AuthError('AUTH_SIGNATURE_INVALID', 'X-Hub-Signature-256 does not match the body.');
    const statuses = whatsappStatuses(req.body);
    let applied = 0;
    for (const s of statuses) {
      const change = await this.deliveries.apply(
        { whatsappMessageId: s.messageId },
        { type: 'whatsapp_status', status: s.status, error: s.error },
        { fallbackSeconds: this.config.notifications.whatsappFallbackSeconds },
      );
      if (change) applied += 1;
    }
    return { statuses: statuses.length, applied };
  }

  /** SMS.ru status callback; it expects the text `100` back, else it retries. */
  @Post('smsru/:token')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async smsRuStatus(@Param('token') token: string, @Req() req: FastifyRequest): Promise<string> {
    const creds = await this.credentials.get('smsru');
    if (!creds || !sameSecret(token, creds.callbackToken))
      throw new AuthError('AUTH_INVALID', 'Unknown SMS.ru callback URL.');
    const form =
      typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    for (const s of smsRuStatuses(form)) {
      await this.deliveries.apply(
        { smsId: s.smsId },
        { type: 'sms_status', status: s.status, error: null },
        { fallbackSeconds: this.config.notifications.whatsappFallbackSeconds },
      );
    }
    return '100';
  }
}
