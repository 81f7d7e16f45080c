import { createHmac } from 'node:crypto';
import { signTaplink, verifyTaplink } from './taplink';
import type { SignedRequest } from './types';

const SECRET = 'taplink secret phrase';
const body = '{"profile_id":1,"name":"Анна","phone":"+79990000000","status_id":1}';
const req = (raw: string | Buffer, headers: SignedRequest['headers'] = {}): SignedRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/taplink',
  headers: { 'content-type': 'application/json', ...headers },
  rawBody: Buffer.from(raw),
});
const signed = (raw: string, secret = SECRET) => req(raw, { 'taplink-signature': signTaplink(raw, secret) });

describe('verifyTaplink', () => {
  it('accepts lowercase hex HMAC-SHA1 of the raw (unicode) body', () => {
    const sig = createHmac('sha1', SECRET).update(body).digest('hex');
    expect(verifyTaplink(req(body, { 'taplink-signature': sig }), SECRET)).toEqual({ ok: true });
  });

  it('rejects a one-byte change, a wrong secret and a missing header', () => {
    const r = signed(body);
    r.rawBody = Buffer.from(body.replace('"status_id":1', '"status_id":2'));
    expect(verifyTaplink(r, SECRET)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyTaplink(signed(body, 'other'), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyTaplink(req(body), SECRET)).toEqual({ ok: false, reason: 'missing' });
  });

  it('accepts header name and hex case variations, and an empty body', () => {
    const sig = signTaplink(body, SECRET);
    expect(verifyTaplink(req(body, { 'Taplink-Signature': sig.toUpperCase() }), SECRET).ok).toBe(true);
    expect(verifyTaplink(signed(''), SECRET).ok).toBe(true);
  });
});
