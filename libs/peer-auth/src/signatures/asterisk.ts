import { hmac, safeEqual } from './hmac';
import { OK, fail, header, type SignedRequest, type VerifyResult } from './types';

/**
 * Our own scheme for PBXs without webhooks of their own (Asterisk: a shipper on the PBX posts CDRs). Version 2
 * signs what a replay or a redirect would change, not only the body:
 *
 *   X-Signature-Timestamp: <unix seconds>
 *   X-Signature: v2=<hex HMAC-SHA256(secret, "v2\n" + timestamp + "\n" + METHOD + "\n" + path?query + "\n" + body)>
 *
 * `path?query` is the request target as sent (`/v1/providers/asterisk/pbx-1`); a proxy in front must not
 * rewrite it. A timestamp further than the tolerance from now is refused (`expired`).
 * Version 1 (`X-Signature: <hex HMAC-SHA256(secret, body)>`, no timestamp) can be replayed forever and against
 * any route; it is accepted only while `allowV1` is set (the migration window, see the README).
 */
export interface AsteriskSignatureOptions {
  /** Max |now - X-Signature-Timestamp|, seconds. Default 300. */
  toleranceSeconds?: number;
  /** Accept version-1 (body-only) signatures too. Default false. */
  allowV1?: boolean;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

export interface AsteriskSignedParts {
  method: string;
  /** Path and query as requested, e.g. `/v1/providers/asterisk/pbx-1`. */
  target: string;
  timestampSeconds: number | string;
  rawBody: Buffer | string;
}

/** The `X-Signature` value (version 2) for a request. */
export function signAsterisk(parts: AsteriskSignedParts, secret: string): string {
  const head = `v2\n${parts.timestampSeconds}\n${parts.method.toUpperCase()}\n${parts.target}\n`;
  return `v2=${hmac('sha256', secret, Buffer.concat([Buffer.from(head), Buffer.from(parts.rawBody)])).toString('hex')}`;
}

/** The version-1 `X-Signature` value: hex HMAC-SHA256 of the body alone (legacy shippers). */
export function signAsteriskV1(rawBody: Buffer | string, secret: string): string {
  return hmac('sha256', secret, rawBody).toString('hex');
}

/** Path and query of a full URL, as the client put them on the request line. */
function requestTarget(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

export function verifyAsteriskSignature(
  req: SignedRequest,
  secret: string,
  opts: AsteriskSignatureOptions = {},
): VerifyResult {
  const given = header(req, 'x-signature')?.trim();
  if (!given) return fail('missing');
  if (!given.startsWith('v2=')) {
    // Version 1 outside the migration window: refused like any unreadable signature.
    if (!opts.allowV1) return fail('malformed');
    return safeEqual(given.toLowerCase(), signAsteriskV1(req.rawBody, secret)) ? OK : fail('mismatch');
  }
  const timestamp = header(req, 'x-signature-timestamp')?.trim();
  if (!timestamp) return fail('missing');
  if (!/^\d{1,12}$/.test(timestamp)) return fail('malformed');
  const expected = signAsterisk(
    { method: req.method, target: requestTarget(req.url), timestampSeconds: timestamp, rawBody: req.rawBody },
    secret,
  );
  if (!safeEqual(`v2=${given.slice(3).toLowerCase()}`, expected)) return fail('mismatch');
  // After the signature, so `expired` is only reported for authentic requests.
  const skew = Math.abs((opts.now ?? Date.now)() / 1000 - Number(timestamp));
  return skew > (opts.toleranceSeconds ?? 300) ? fail('expired') : OK;
}
