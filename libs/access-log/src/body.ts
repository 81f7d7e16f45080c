import { createHash } from 'node:crypto';

export type BodyMode = 'hash' | 'none' | 'full';

const TOKENS = /sbp_[0-9A-Za-z]{12}_[0-9A-Za-z]+/g;
/** `"password": "…"` in JSON, `password=…` in forms and queries. */
const JSON_PASSWORD = /("password"\s*:\s*)"(?:[^"\\]|\\.)*"/g;
const FORM_PASSWORD = /((?:^|&)password=)[^&]*/g;

/** A body as debugging text (accessLog.bodies = full): tokens and password fields masked, NULs removed. */
export function redactBody(text: string): string {
  return text
    .replace(TOKENS, 'sbp_[redacted]')
    .replace(JSON_PASSWORD, '$1"[redacted]"')
    .replace(FORM_PASSWORD, '$1[redacted]')
    .replaceAll('\u0000', '');
}

/** body_hash / body of a record from the raw request bytes, per accessLog.bodies. */
export function bodyFields(
  raw: Buffer | undefined,
  mode: BodyMode,
): { bodyHash: string | null; body: string | null } {
  if (mode === 'none' || !raw || raw.length === 0) return { bodyHash: null, body: null };
  const bodyHash = createHash('sha256').update(raw).digest('hex');
  return { bodyHash, body: mode === 'full' ? redactBody(raw.toString('utf8')) : null };
}
