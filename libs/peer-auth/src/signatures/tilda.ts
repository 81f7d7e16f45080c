import { safeEqual } from './hmac';
import { OK, fail, header, type SignedRequest, type VerifyResult } from './types';

/**
 * Tilda signs nothing: a form webhook carries a shared secret, either as the API key Tilda sends in a header
 * (`X-Api-Key`, the name Tilda proposes) or as `?token=` in the webhook URL. Compared in constant time.
 */
export function verifyTilda(req: SignedRequest, secret: string): VerifyResult {
  const given = header(req, 'x-api-key') ?? new URL(req.url, 'http://x.invalid').searchParams.get('token');
  if (!given) return fail('missing');
  return safeEqual(given, secret) ? OK : fail('mismatch');
}

/** Tilda's connection check: right after a webhook is set up it POSTs `test=test` and wants 200 within 5 s. */
export function isTildaTest(req: SignedRequest): boolean {
  return (
    req.method.toUpperCase() === 'POST' &&
    req.rawBody.length < 64 &&
    req.rawBody.toString('latin1').trim() === 'test=test'
  );
}
