import { hmac, safeEqual } from './hmac';
import { OK, fail, formFields, header, type SignedRequest, type VerifyResult } from './types';

/** Fields concatenated into the signed string, per event (official SDK, `getSignatureString()`). */
export const ZADARMA_SIGNED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  NOTIFY_START: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_INTERNAL: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_IVR: ['caller_id', 'called_did', 'call_start'], // NotifyIvr extends NotifyStart
  NOTIFY_END: ['caller_id', 'called_did', 'call_start'],
  NOTIFY_ANSWER: ['caller_id', 'destination', 'call_start'],
  NOTIFY_OUT_START: ['internal', 'destination', 'call_start'],
  NOTIFY_OUT_END: ['internal', 'destination', 'call_start'],
  NOTIFY_RECORD: ['pbx_call_id', 'call_id_with_rec'],
};

/** PHP `base64_encode(hash_hmac('sha1', $str, $secret))`: base64 of the *hex* digest text. */
export function signZadarma(signedString: string, secret: string): string {
  return Buffer.from(hmac('sha1', secret, signedString).toString('hex')).toString('base64');
}

/** The signature for a NOTIFY_* form (as a map of field -> value); null for an unknown event. */
export function signZadarmaEvent(fields: Record<string, string>, secret: string): string | null {
  const names = ZADARMA_SIGNED_FIELDS[fields.event];
  return names ? signZadarma(names.map((n) => fields[n] ?? '').join(''), secret) : null;
}

/**
 * Header `Signature` over the event's fields of the form body. Note that Zadarma signs only those
 * fields (e.g. not duration/disposition of NOTIFY_END).
 */
export function verifyZadarma(req: SignedRequest, secret: string): VerifyResult {
  const given = header(req, 'signature');
  if (!given) return fail('missing');
  const form = formFields(req.rawBody, ['event', ...new Set(Object.values(ZADARMA_SIGNED_FIELDS).flat())]);
  const names = form && ZADARMA_SIGNED_FIELDS[form.get('event') ?? ''];
  if (!form || !names) return fail('malformed');
  // Like the SDK (PHP string concatenation), an absent field contributes ''.
  const expected = signZadarma(names.map((n) => form.get(n) ?? '').join(''), secret);
  return safeEqual(given, expected) ? OK : fail('mismatch');
}

/** Zadarma checks a webhook URL with `GET ?zd_echo=<value>`; answer the value as text/plain. */
export function zadarmaEcho(req: Pick<SignedRequest, 'url'>): string | null {
  const q = req.url.indexOf('?');
  return q < 0 ? null : new URLSearchParams(req.url.slice(q + 1).split('#')[0]).get('zd_echo');
}
