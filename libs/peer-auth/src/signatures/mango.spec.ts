import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mangoFormBody, signMango, verifyMango } from './mango';
import type { SignedRequest } from './types';

const dir = join(__dirname, '../../../../test/fixtures/providers/mango');
const samples = ['events-call.appeared.abonent.json.txt', 'events-call.appeared.ivr.json.txt'].map((f) =>
  readFileSync(join(dir, f), 'utf8'),
);
const SECRET = { apiKey: 'test-vpbx-api-key', apiSalt: 'test-vpbx-api-salt' };
const req = (body: string): SignedRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/mango/events/call',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  rawBody: Buffer.from(body),
});
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('verifyMango', () => {
  it.each(samples.map((json, i) => [i, json]))(
    'accepts real sample %i signed with a test key/salt',
    (_i, json) => {
      expect(verifyMango(req(mangoFormBody(json, SECRET)), SECRET)).toEqual({ ok: true });
    },
  );

  it('signs like `echo -n "$KEY$JSON$SALT" | sha256sum`', () => {
    const json = samples[1];
    const expected = createHash('sha256').update(`${SECRET.apiKey}${json}${SECRET.apiSalt}`).digest('hex');
    expect(signMango(json, SECRET)).toBe(expected);
  });

  it('verifies the exact json string, not a re-serialization', () => {
    const json = samples[0]; // indented, multi-line
    const body = form({
      vpbx_api_key: SECRET.apiKey,
      sign: signMango(json, SECRET),
      json: JSON.stringify(JSON.parse(json)),
    });
    expect(verifyMango(req(body), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a one-byte change, a wrong salt and a foreign api key', () => {
    const json = samples[1];
    const changed = form({
      vpbx_api_key: SECRET.apiKey,
      sign: signMango(json, SECRET),
      json: json.replace('"seq":1', '"seq":2'),
    });
    expect(verifyMango(req(changed), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyMango(req(mangoFormBody(json, { ...SECRET, apiSalt: 'x' })), SECRET).ok).toBe(false);
    const foreign = { apiKey: 'other-key', apiSalt: SECRET.apiSalt };
    expect(verifyMango(req(mangoFormBody(json, foreign)), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('reports missing fields and rejects duplicated ones', () => {
    const json = samples[1];
    expect(verifyMango(req(form({ vpbx_api_key: SECRET.apiKey, json })), SECRET)).toEqual({
      ok: false,
      reason: 'missing',
    });
    const noJson = form({ vpbx_api_key: SECRET.apiKey, sign: signMango(json, SECRET) });
    expect(verifyMango(req(noJson), SECRET)).toEqual({ ok: false, reason: 'malformed' });
    const dup = `${mangoFormBody(json, SECRET)}&json=${encodeURIComponent('{"evil":1}')}`;
    expect(verifyMango(req(dup), SECRET)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts an upper-case hex sign and a unicode json', () => {
    const json = '{"from":{"number":"79990000000","name":"Иван"}}';
    const body = form({ vpbx_api_key: SECRET.apiKey, sign: signMango(json, SECRET).toUpperCase(), json });
    expect(verifyMango(req(body), SECRET).ok).toBe(true);
  });
});
