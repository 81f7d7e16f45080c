import { hmac, safeEqual } from './hmac';
import { OK, fail, header, type SignedRequest, type VerifyResult } from './types';

export function signTaplink(rawBody: Buffer | string, secret: string): string {
  return hmac('sha1', secret, rawBody).toString('hex');
}

/** `taplink-signature = hex(HMAC-SHA1(secret phrase, raw body))` (JSON mode). */
export function verifyTaplink(req: SignedRequest, secret: string): VerifyResult {
  const given = header(req, 'taplink-signature');
  if (!given) return fail('missing');
  return safeEqual(given.toLowerCase(), signTaplink(req.rawBody, secret)) ? OK : fail('mismatch');
}
