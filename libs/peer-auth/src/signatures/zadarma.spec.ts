import { createHmac } from 'node:crypto';
import type { SignedRequest } from './types';
import { ZADARMA_SIGNED_FIELDS, signZadarmaEvent, verifyZadarma, zadarmaEcho } from './zadarma';

const SECRET = 'zadarma-api-secret';
const base = {
  call_start: '2024-03-01 12:00:00',
  pbx_call_id: 'in_1b2c3d',
  caller_id: '+79161234567',
  called_did: '74951234567',
  internal: '100',
  destination: '+74957654321',
  duration: '42',
  disposition: 'answered',
  call_id_with_rec: '1709294400.123',
};
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const req = (body: string, headers: SignedRequest['headers'] = {}): SignedRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/zadarma',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  rawBody: Buffer.from(body),
});
const signed = (fields: Record<string, string>, secret = SECRET) =>
  req(form(fields), { signature: signZadarmaEvent(fields, secret)! });

describe('verifyZadarma', () => {
  it.each(Object.keys(ZADARMA_SIGNED_FIELDS))('accepts a signed %s', (event) => {
    expect(verifyZadarma(signed({ event, ...base }), SECRET)).toEqual({ ok: true });
  });

  it('signs base64 of the hex digest over the event fields (PHP hash_hmac default)', () => {
    const fields = { event: 'NOTIFY_ANSWER', ...base };
    const hex = createHmac('sha1', SECRET)
      .update(base.caller_id + base.destination + base.call_start)
      .digest('hex');
    expect(signZadarmaEvent(fields, SECRET)).toBe(Buffer.from(hex).toString('base64'));
    const rec = { event: 'NOTIFY_RECORD', ...base };
    const recHex = createHmac('sha1', SECRET)
      .update(base.pbx_call_id + base.call_id_with_rec)
      .digest('hex');
    expect(signZadarmaEvent(rec, SECRET)).toBe(Buffer.from(recHex).toString('base64'));
  });

  it('rejects a one-byte change in a signed field', () => {
    const r = signed({ event: 'NOTIFY_START', ...base });
    r.rawBody = Buffer.from(form({ event: 'NOTIFY_START', ...base, caller_id: '+79161234568' }));
    expect(verifyZadarma(r, SECRET)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('does not cover unsigned fields (provider limitation)', () => {
    const r = signed({ event: 'NOTIFY_END', ...base });
    r.rawBody = Buffer.from(form({ event: 'NOTIFY_END', ...base, duration: '9999' }));
    expect(verifyZadarma(r, SECRET).ok).toBe(true);
  });

  it('rejects a wrong secret and a missing header; reads the header in any case', () => {
    const fields = { event: 'NOTIFY_OUT_END', ...base };
    expect(verifyZadarma(signed(fields, 'nope'), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyZadarma(req(form(fields)), SECRET)).toEqual({ ok: false, reason: 'missing' });
    expect(
      verifyZadarma(req(form(fields), { Signature: signZadarmaEvent(fields, SECRET)! }), SECRET).ok,
    ).toBe(true);
  });

  it('rejects unknown events and repeated signed fields as malformed', () => {
    expect(verifyZadarma(req(form({ event: 'NOTIFY_X', ...base }), { signature: 'x' }), SECRET)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    const r = signed({ event: 'NOTIFY_START', ...base });
    r.rawBody = Buffer.concat([r.rawBody, Buffer.from('&caller_id=%2B70000000000')]);
    expect(verifyZadarma(r, SECRET)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('treats an absent signed field as empty, like the SDK', () => {
    const { called_did: _omit, ...rest } = base;
    expect(verifyZadarma(signed({ event: 'NOTIFY_START', ...rest }), SECRET).ok).toBe(true);
  });
});

describe('zadarmaEcho', () => {
  it('returns the zd_echo value or null', () => {
    expect(zadarmaEcho({ url: 'https://sb.example/hooks/zadarma?zd_echo=a1b2%20c' })).toBe('a1b2 c');
    expect(zadarmaEcho({ url: 'https://sb.example/hooks/zadarma?x=1' })).toBeNull();
    expect(zadarmaEcho({ url: 'https://sb.example/hooks/zadarma' })).toBeNull();
  });
});
