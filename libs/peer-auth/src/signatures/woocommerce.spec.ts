import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedRequest } from './types';
import { isWooCommercePing, signWooCommerce, verifyWooCommerce } from './woocommerce';

const order = readFileSync(
  join(__dirname, '../../../../test/fixtures/providers/woocommerce/order.created.json.txt'),
);
const SECRET = 'wc-secret-9f8e';
const post = (body: Buffer | string, headers: SignedRequest['headers'] = {}): SignedRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/woocommerce',
  headers: { 'content-type': 'application/json', ...headers },
  rawBody: Buffer.from(body),
});
const signed = (body: Buffer | string, secret = SECRET) =>
  post(body, { 'x-wc-webhook-signature': signWooCommerce(body, secret) });

describe('verifyWooCommerce', () => {
  it('accepts the order.created sample signed as WooCommerce does', () => {
    const sig = createHmac('sha256', SECRET).update(order).digest('base64');
    expect(verifyWooCommerce(post(order, { 'x-wc-webhook-signature': sig }), SECRET)).toEqual({ ok: true });
  });

  it('rejects a one-byte body change', () => {
    const req = signed(order);
    req.rawBody = Buffer.from(order);
    req.rawBody[10] ^= 1;
    expect(verifyWooCommerce(req, SECRET)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a wrong secret and a missing header', () => {
    expect(verifyWooCommerce(signed(order, 'other'), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWooCommerce(post(order), SECRET)).toEqual({ ok: false, reason: 'missing' });
  });

  it('finds the header whatever its case', () => {
    const req = post(order, { 'X-WC-Webhook-Signature': signWooCommerce(order, SECRET) });
    expect(verifyWooCommerce(req, SECRET).ok).toBe(true);
  });

  it('handles empty and unicode bodies', () => {
    expect(verifyWooCommerce(signed(''), SECRET).ok).toBe(true);
    expect(verifyWooCommerce(signed('{"name":"Чай «Зелёный» 🍵"}'), SECRET).ok).toBe(true);
  });

  it('supports a filtered hash algorithm', () => {
    const req = post(order, {
      'x-wc-webhook-signature': signWooCommerce(order, SECRET, { algorithm: 'sha1' }),
    });
    expect(verifyWooCommerce(req, SECRET, { algorithm: 'sha1' }).ok).toBe(true);
    expect(verifyWooCommerce(req, SECRET).ok).toBe(false);
  });

  it('keys the HMAC with the entity-decoded secret, like wp_specialchars_decode', () => {
    const raw = createHmac('sha256', `a&b"c'd<>`).update('x').digest('base64');
    expect(signWooCommerce('x', 'a&amp;b&quot;c&#039;d&lt;&gt;')).toBe(raw);
    expect(signWooCommerce('x', 'a&#x26;b&#34;c&#39;d<>')).toBe(raw);
  });
});

describe('isWooCommercePing', () => {
  it('recognises the unsigned creation ping only', () => {
    const ping = post('webhook_id=42', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(isWooCommercePing(ping)).toBe(true);
    expect(verifyWooCommerce(ping, SECRET)).toEqual({ ok: false, reason: 'missing' });
    expect(isWooCommercePing(signed('webhook_id=42'))).toBe(false);
    expect(isWooCommercePing(post(order))).toBe(false);
    expect(isWooCommercePing({ ...ping, method: 'GET' })).toBe(false);
  });
});
