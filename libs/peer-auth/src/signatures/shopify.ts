import { hmac, safeEqual } from './hmac';
import { OK, fail, header, type SignedRequest, type VerifyResult } from './types';

export function signShopify(rawBody: Buffer | string, secret: string): string {
  return hmac('sha256', secret, rawBody).toString('base64');
}

/**
 * `X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(app secret, raw body))`. Verify the bytes as received:
 * ids exceed 2^53, so a parsed and re-serialized body would not match.
 */
export function verifyShopify(req: SignedRequest, secret: string): VerifyResult {
  const given = header(req, 'x-shopify-hmac-sha256');
  if (!given) return fail('missing');
  return safeEqual(given, signShopify(req.rawBody, secret)) ? OK : fail('mismatch');
}
