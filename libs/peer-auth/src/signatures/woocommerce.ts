import { hmac, safeEqual, type Digest } from './hmac';
import { OK, fail, header, type SignedRequest, type VerifyResult } from './types';

const SIGNATURE = 'x-wc-webhook-signature';

export interface WooCommerceOptions {
  /** A site can change it with the `woocommerce_webhook_hash_algorithm` filter. */
  algorithm?: Digest;
}

// WooCommerce keys the HMAC with wp_specialchars_decode($secret, ENT_QUOTES); do the same so a secret
// copied as stored (e.g. containing `&amp;`) yields WooCommerce's key.
const WP_ENTITY = /&(?:(amp|lt|gt|quot)|#0*(34|38|39|60|62)|#[xX]0*(22|26|27));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
const wpSpecialcharsDecode = (s: string): string =>
  s.replace(WP_ENTITY, (_m, named?: string, dec?: string, hex?: string) =>
    named ? NAMED[named] : String.fromCharCode(dec ? Number(dec) : parseInt(hex!, 16)),
  );

export function signWooCommerce(
  rawBody: Buffer | string,
  secret: string,
  opts: WooCommerceOptions = {},
): string {
  return hmac(opts.algorithm ?? 'sha256', wpSpecialcharsDecode(secret), rawBody).toString('base64');
}

/** `X-WC-Webhook-Signature = base64(HMAC-SHA256(secret, raw body))`. */
export function verifyWooCommerce(
  req: SignedRequest,
  secret: string,
  opts: WooCommerceOptions = {},
): VerifyResult {
  const given = header(req, SIGNATURE);
  if (!given) return fail('missing');
  return safeEqual(given, signWooCommerce(req.rawBody, secret, opts)) ? OK : fail('mismatch');
}

/** The unsigned `webhook_id=<id>` ping WooCommerce sends when a webhook is created; ack it with 200. */
export function isWooCommercePing(req: SignedRequest): boolean {
  return (
    req.method.toUpperCase() === 'POST' &&
    header(req, SIGNATURE) === undefined &&
    req.rawBody.length < 64 &&
    /^webhook_id=\d+$/.test(req.rawBody.toString('latin1').trim())
  );
}
