import { hmac, safeEqualAny } from './hmac';
import { OK, fail, header, type SignedRequest, type VerifyResult } from './types';

export interface StandardWebhookOptions {
  /** Max |now - webhook-timestamp|, seconds. Default 300. */
  toleranceSeconds?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

export interface StandardWebhookReplayOptions extends StandardWebhookOptions {
  /** True if this webhook-id was already accepted. Called only for authentic, fresh requests. */
  seen: (id: string) => boolean | Promise<boolean>;
}

/** `whsec_`-prefixed secrets are base64 (the spec's format); anything else is used as raw bytes. */
const secretKey = (secret: string | Buffer): Buffer =>
  typeof secret !== 'string'
    ? secret
    : secret.startsWith('whsec_')
      ? Buffer.from(secret.slice(6), 'base64')
      : Buffer.from(secret, 'utf8');

/** Returns the `webhook-signature` header value: `v1,<base64(HMAC-SHA256(key, id.timestamp.body))>`. */
export function signStandardWebhook(
  id: string,
  timestampSeconds: number | string,
  rawBody: Buffer | string,
  secret: string | Buffer,
): string {
  const payload = Buffer.concat([Buffer.from(`${id}.${timestampSeconds}.`), Buffer.from(rawBody)]);
  return `v1,${hmac('sha256', secretKey(secret), payload).toString('base64')}`;
}

/** Signature and timestamp window only; use verifyStandardWebhook for replay protection too. */
export function verifyStandardWebhookSignature(
  req: SignedRequest,
  secret: string | Buffer,
  opts: StandardWebhookOptions = {},
): VerifyResult {
  const id = header(req, 'webhook-id');
  const timestamp = header(req, 'webhook-timestamp');
  const signatures = header(req, 'webhook-signature', ' ');
  if (!id || !timestamp || !signatures) return fail('missing');
  if (!/^\d{1,12}$/.test(timestamp)) return fail('malformed');

  // Only v1 (symmetric) entries are ours to check; any one matching is enough (key rotation).
  const candidates = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3));
  const expected = signStandardWebhook(id, timestamp, req.rawBody, secret).slice(3);
  if (!safeEqualAny(expected, candidates)) return fail('mismatch');

  // Checked after the signature so `expired` is only ever reported for authentic requests.
  const skew = Math.abs((opts.now ?? Date.now)() / 1000 - Number(timestamp));
  return skew > (opts.toleranceSeconds ?? 300) ? fail('expired') : OK;
}

/** Full check: signature, timestamp window, then `seen(webhook-id)` for replays. */
export async function verifyStandardWebhook(
  req: SignedRequest,
  secret: string | Buffer,
  opts: StandardWebhookReplayOptions,
): Promise<VerifyResult> {
  const result = verifyStandardWebhookSignature(req, secret, opts);
  if (!result.ok) return result;
  return (await opts.seen(header(req, 'webhook-id')!)) ? fail('replayed') : OK;
}
