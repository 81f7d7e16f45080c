import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Meta signs every webhook POST with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.
 * Checked on the raw bytes (a re-serialized JSON would not match), in constant time.
 */
export function metaSignatureValid(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WhatsAppStatusUpdate {
  messageId: string;
  /** sent | delivered | read | failed (and newer ones, ignored by the state machine). */
  status: string;
  /** `<code> <title>` of the first error, e.g. `131026 Message undeliverable`. */
  error: string | null;
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The `statuses` of a WhatsApp Business Account webhook (`object: whatsapp_business_account`,
 * entry[].changes[].value.statuses[]). Incoming messages and other fields are ignored.
 */
export function whatsappStatuses(body: unknown): WhatsAppStatusUpdate[] {
  const root = obj(body);
  if (root.object !== 'whatsapp_business_account') return [];
  return arr(root.entry).flatMap((entry) =>
    arr(obj(entry).changes).flatMap((change) =>
      arr(obj(obj(change).value).statuses).flatMap((s): WhatsAppStatusUpdate[] => {
        const { id, status, errors } = obj(s);
        if (typeof id !== 'string' || typeof status !== 'string') return [];
        const first = obj(arr(errors)[0]);
        const scalar = (v: unknown): string =>
          typeof v === 'string' || typeof v === 'number' ? String(v) : '';
        const error =
          first.code === undefined
            ? null
            : `${scalar(first.code)} ${scalar(first.title ?? first.message)}`.trim();
        return [{ messageId: id, status, error }];
      }),
    ),
  );
}

export interface SmsStatusUpdate {
  smsId: string;
  /** SMS.ru status code: 102 in transit, 103 delivered, 104..108, 150 failed. */
  status: string;
}

/**
 * SMS.ru's callback: a form POST with `data[0]`, `data[1]`, ... each `sms_status\n<sms_id>\n<status code>\n<unix
 * time>` (other first lines, e.g. incoming messages, are skipped). The answer must be the text `100`.
 */
export function smsRuStatuses(form: Record<string, unknown>): SmsStatusUpdate[] {
  const values = Object.entries(form)
    .filter(([k]) => k === 'data' || k.startsWith('data['))
    .flatMap(([, v]): unknown[] => (Array.isArray(v) ? (v as unknown[]) : [v]));
  return values.flatMap((v): SmsStatusUpdate[] => {
    if (typeof v !== 'string') return [];
    const [kind, smsId, status] = v.split('\n').map((l) => l.trim());
    return kind === 'sms_status' && smsId && status ? [{ smsId, status }] : [];
  });
}
