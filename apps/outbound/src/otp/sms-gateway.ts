import { Injectable } from '@nestjs/common';
import { OutboundHttp } from '@switchboard/access-log';
import { AppConfig } from '@switchboard/config';
import { ProviderCredentials } from '@switchboard/notifications';
import { retryableStatus, unreachable, type SendResult } from './send-result';

/**
 * The SMS side of a message, pluggable: one class per HTTP API (SMS.ru today; SMSC or another is one more class
 * and a `notifications.sms.provider` value). Implementations read their own credentials and log every call.
 */
export abstract class SmsGateway {
  /** The credentials' provider name, and the status webhook path segment: `/v1/messaging/<provider>/...`. */
  abstract readonly provider: string;
  /** False when no credentials are stored: the message fails over nothing rather than waiting. */
  abstract configured(): Promise<boolean>;
  abstract send(to: string, text: string): Promise<SendResult>;
}

/** SMS.ru status codes of a send refusal worth a retry: 220 service temporarily unavailable. */
const SMSRU_RETRYABLE = new Set([220]);

/**
 * SMS.ru: `POST {base}/sms/send` (form: api_id, to, msg, json=1, from). Answers
 * `{status: "OK", sms: {"<phone>": {status: "OK", sms_id: "..."} | {status: "ERROR", status_code, status_text}}}`;
 * delivery statuses come to the callback URL (gateway `POST /v1/messaging/smsru/<callbackToken>`).
 */
@Injectable()
export class SmsRuGateway extends SmsGateway {
  readonly provider = 'smsru';

  constructor(
    private readonly http: OutboundHttp,
    private readonly credentials: ProviderCredentials,
    private readonly config: AppConfig,
  ) {
    super();
  }

  async configured(): Promise<boolean> {
    return (await this.credentials.get('smsru')) !== null;
  }

  async send(to: string, text: string): Promise<SendResult> {
    const creds = await this.credentials.get('smsru');
    if (!creds) return { ok: false, error: 'SMS_NOT_CONFIGURED', permanent: true };
    const { baseUrl, from } = this.config.notifications.sms;
    const phone = to.replace(/^\+/, '');
    const form = new URLSearchParams({ api_id: creds.apiId, to: phone, msg: text, json: '1' });
    if (from) form.set('from', from);
    let res: Response;
    try {
      res = await this.http.fetch({ service: 'smsru.sms.send' }, `${baseUrl.replace(/\/$/, '')}/sms/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    } catch (err) {
      return unreachable(err, 'smsru');
    }
    type Answer = { status?: string; status_code?: number; sms_id?: unknown };
    const body = (await res.json().catch(() => null)) as (Answer & { sms?: Record<string, Answer> }) | null;
    if (!res.ok || !body)
      return { ok: false, error: `SMSRU_HTTP_${res.status}`, permanent: !retryableStatus(res.status) };
    const one = body.status === 'OK' ? (body.sms?.[phone] ?? Object.values(body.sms ?? {})[0]) : body;
    if (one?.status === 'OK' && typeof one.sms_id === 'string') return { ok: true, id: one.sms_id };
    const code = Number(one?.status_code);
    return {
      ok: false,
      error: `SMSRU_${Number.isFinite(code) ? code : 'ERROR'}`,
      permanent: !SMSRU_RETRYABLE.has(code),
    };
  }
}
