import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signShopify, verifyShopify } from './shopify';
import type { SignedRequest } from './types';

const SECRET = 'shpss_test_secret';
// (A) documented headers (mixed case) and (B) a captured delivery (lower case), as blocks of `Name: value`.
const [docHeaders, capturedHeaders] = readFileSync(
  join(__dirname, '../../../../test/fixtures/providers/shopify/headers.txt'),
  'utf8',
)
  .split(/\n\s*\n/)
  .map((block) =>
    Object.fromEntries(
      block
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
    ),
  );
const orderId = capturedHeaders['x-shopify-order-id']; // 820982911946154508 > 2^53
const body = `{"id":${orderId},"email":"jon@example.com","line_items":[{"id":866550311766439020,"price":"199.00"}]}`;

const req = (headers: Record<string, string>, raw: string | Buffer = body): SignedRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/shopify',
  headers,
  rawBody: Buffer.from(raw),
});
const withHmac = (
  headers: Record<string, string>,
  name: string,
  raw: string | Buffer = body,
  secret = SECRET,
) => req({ ...headers, [name]: signShopify(raw, secret) }, raw);

describe('verifyShopify', () => {
  it('accepts the captured (lower-case) header set with a valid HMAC', () => {
    expect(verifyShopify(withHmac(capturedHeaders, 'x-shopify-hmac-sha256'), SECRET)).toEqual({ ok: true });
  });

  it('accepts the documented mixed-case and an upper-case header name', () => {
    expect(docHeaders).toHaveProperty('X-Shopify-Hmac-Sha256');
    expect(verifyShopify(withHmac(docHeaders, 'X-Shopify-Hmac-Sha256'), SECRET).ok).toBe(true);
    expect(verifyShopify(withHmac({}, 'X-SHOPIFY-HMAC-SHA256'), SECRET).ok).toBe(true);
  });

  it('rejects the fixtures’ own HMACs (no matching body) and a re-serialized big-id body', () => {
    expect(verifyShopify(req(capturedHeaders), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
    const signed = withHmac(capturedHeaders, 'x-shopify-hmac-sha256');
    const reserialized = JSON.stringify(JSON.parse(body));
    expect(reserialized).not.toContain(orderId); // JSON.parse rounds 820982911946154508
    expect(verifyShopify({ ...signed, rawBody: Buffer.from(reserialized) }, SECRET).ok).toBe(false);
  });

  it('rejects a one-byte change, a wrong secret and a missing header', () => {
    const tampered = withHmac(capturedHeaders, 'x-shopify-hmac-sha256');
    tampered.rawBody = Buffer.from(body.replace('199.00', '199.01'));
    expect(verifyShopify(tampered, SECRET)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyShopify(withHmac({}, 'x-shopify-hmac-sha256', body, 'wrong'), SECRET)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyShopify(req({ 'x-shopify-topic': 'orders/create' }), SECRET)).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it('handles empty and unicode bodies', () => {
    expect(verifyShopify(withHmac({}, 'x-shopify-hmac-sha256', ''), SECRET).ok).toBe(true);
    expect(verifyShopify(withHmac({}, 'x-shopify-hmac-sha256', '{"note":"доставка 🚚"}'), SECRET).ok).toBe(
      true,
    );
  });
});
