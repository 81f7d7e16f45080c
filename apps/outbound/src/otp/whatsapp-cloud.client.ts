import { Injectable } from '@nestjs/common';
import { OutboundHttp } from '@switchboard/access-log';
import { AppConfig } from '@switchboard/config';
import type { WhatsAppCredentials } from '@switchboard/notifications';
import { retryableStatus, unreachable, type SendResult } from './send-result';

export interface TemplateMessage {
  /** E.164 with or without '+'; the API takes digits. */
  to: string;
  template: string;
  language: string;
  /** Body parameters {{1}}, {{2}}, ... in order. */
  bodyParams: string[];
  /** Authentication templates: the code again, for the copy-code button (a URL button at index 0). */
  copyCode?: string;
}

/** Meta error codes that say "this will not reach this number by WhatsApp": fall back at once. */
const UNDELIVERABLE = new Set([131026, 131021, 131030, 131047, 131051, 132000, 132001, 132012]);
/** Throttling codes: worth a retry while there is time before the fallback. */
const THROTTLED = new Set([4, 80007, 130429, 131048, 131056]);

/**
 * WhatsApp Business Cloud API: `POST {base}/{version}/{phone-number-id}/messages` with a template message, the
 * access token as a Bearer token. Answers `{messages: [{id: "wamid..."}]}`; errors `{error: {code, message}}`.
 * Every call goes through OutboundHttp, so it is in the access log (service `whatsapp.messages`).
 */
@Injectable()
export class WhatsAppCloudClient {
  constructor(
    private readonly http: OutboundHttp,
    private readonly config: AppConfig,
  ) {}

  async sendTemplate(creds: WhatsAppCredentials, msg: TemplateMessage): Promise<SendResult> {
    const { baseUrl, apiVersion } = this.config.notifications.whatsapp;
    const text = (value: string) => ({ type: 'text', text: value });
    const components: unknown[] = [{ type: 'body', parameters: msg.bodyParams.map(text) }];
    if (msg.copyCode !== undefined)
      components.push({ type: 'button', sub_type: 'url', index: '0', parameters: [text(msg.copyCode)] });
    const url = `${baseUrl.replace(/\/$/, '')}/${apiVersion}/${encodeURIComponent(creds.phoneNumberId)}/messages`;
    let res: Response;
    try {
      res = await this.http.fetch({ service: 'whatsapp.messages' }, url, {
        method: 'POST',
        headers: { authorization: `Bearer ${creds.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          messaging_product: 'whatsapp',
          recipient_type: 'individual',
          to: msg.to.replace(/^\+/, ''),
          type: 'template',
          template: { name: msg.template, language: { code: msg.language }, components },
        }),
      });
    } catch (err) {
      return unreachable(err, 'whatsapp');
    }
    const body = (await res.json().catch(() => null)) as {
      messages?: Array<{ id?: unknown }>;
      error?: { code?: unknown; message?: unknown };
    } | null;
    const id = body?.messages?.[0]?.id;
    if (res.ok && typeof id === 'string') return { ok: true, id };
    const code = Number(body?.error?.code);
    const error = `WHATSAPP_${Number.isFinite(code) ? code : `HTTP_${res.status}`}`;
    if (UNDELIVERABLE.has(code)) return { ok: false, error, permanent: true };
    return { ok: false, error, permanent: !(retryableStatus(res.status) || THROTTLED.has(code)) };
  }
}
