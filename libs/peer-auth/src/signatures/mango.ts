import { createHash } from 'node:crypto';
import { safeEqual } from './hmac';
import { OK, fail, formFields, type SignedRequest, type VerifyResult } from './types';

export interface MangoSecret {
  apiKey: string;
  apiSalt: string;
}

/** `sign = hex(SHA-256(vpbx_api_key + json + vpbx_api_salt))` over the json string exactly as sent. */
export function signMango(json: string, secret: MangoSecret): string {
  return createHash('sha256')
    .update(secret.apiKey + json + secret.apiSalt)
    .digest('hex');
}

/** Form body `vpbx_api_key=…&sign=…&json=…`, as Mango POSTs to `<base>/events/<name>`. */
export function mangoFormBody(json: string, secret: MangoSecret): string {
  return new URLSearchParams({ vpbx_api_key: secret.apiKey, sign: signMango(json, secret), json }).toString();
}

/** Consumers must read the event from this same `json` field: duplicates are rejected as malformed. */
export function verifyMango(req: SignedRequest, secret: MangoSecret): VerifyResult {
  const form = formFields(req.rawBody, ['vpbx_api_key', 'sign', 'json']);
  if (!form) return fail('malformed');
  const [apiKey, sign, json] = [form.get('vpbx_api_key'), form.get('sign'), form.get('json')];
  if (!apiKey || !sign) return fail('missing');
  if (json === null) return fail('malformed');
  const keyOk = safeEqual(apiKey, secret.apiKey);
  const signOk = safeEqual(sign.toLowerCase(), signMango(json, secret));
  return keyOk && signOk ? OK : fail('mismatch');
}
