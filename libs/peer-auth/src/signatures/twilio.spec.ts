import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from './hmac';
import { publicUrl, signTwilio, twilioUrlVariants, verifyTwilio } from './twilio';
import type { SignedRequest } from './types';

const v = JSON.parse(
  readFileSync(
    join(__dirname, '../../../../test/fixtures/providers/twilio/signature-test-vectors.json.txt'),
    'utf8',
  ),
) as Record<string, any>;
const TOKEN: string = v.auth_token;
const FORM = 'application/x-www-form-urlencoded';
const formBody = new URLSearchParams(v.params as Record<string, string>).toString();
const httpUrl = (v.url as string).replace('https:', 'http:');
const withPort = (url: string, port: number) => url.replace('.com/', `.com:${port}/`);

const req = (url: string, body: string, signature?: string, type = FORM): SignedRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': type, ...(signature === undefined ? {} : { 'x-twilio-signature': signature }) },
  rawBody: Buffer.from(body),
});

// Every `*_signature` in the vector file, with the request Twilio's own tests validate it against.
const vectors: Record<string, [url: string, body: string, type?: string]> = {
  expected_signature: [v.url, formBody],
  url_with_port_443_expected_signature: [v.url, formBody], // signed with :443, validated without the port
  http_url_expected_signature: [httpUrl, formBody], // signed with :80, validated without the port
  http_url_with_port_1234_expected_signature: [withPort(httpUrl, 1234), formBody],
  duplicate_params_expected_signature: [v.url, v.duplicate_params_form_body],
  json_body_expected_signature: [v.json_body_url, v.json_body, 'application/json'],
};

describe('verifyTwilio known-answer vectors', () => {
  it('covers every signature in the vector file', () => {
    expect(Object.keys(vectors).sort()).toEqual(
      Object.keys(v)
        .filter((k) => k.endsWith('_signature'))
        .sort(),
    );
  });

  it.each(Object.entries(vectors))('%s', (key, [url, body, type]) => {
    expect(verifyTwilio(req(url, body, v[key], type), TOKEN)).toEqual({ ok: true });
  });

  it('signTwilio reproduces the vectors for the exact URL strings Twilio signed', () => {
    expect(signTwilio(v.url, v.params, TOKEN)).toBe(v.expected_signature);
    expect(signTwilio(withPort(v.url, 443), v.params, TOKEN)).toBe(v.url_with_port_443_expected_signature);
    expect(signTwilio(withPort(httpUrl, 80), v.params, TOKEN)).toBe(v.http_url_expected_signature);
    const dup = new URLSearchParams(v.duplicate_params_form_body as string);
    expect(signTwilio(v.url, dup, TOKEN)).toBe(v.duplicate_params_expected_signature);
    expect(signTwilio(v.json_body_url, {}, TOKEN)).toBe(v.json_body_expected_signature);
    expect(sha256Hex(v.json_body as string)).toBe(v.json_body_sha256_hex);
  });

  it('accepts the port-less signature when the URL carries the default port', () => {
    expect(verifyTwilio(req(withPort(v.url, 443), formBody, v.expected_signature), TOKEN).ok).toBe(true);
  });

  it('does not add or strip a non-default port', () => {
    expect(verifyTwilio(req(httpUrl, formBody, v.http_url_with_port_1234_expected_signature), TOKEN).ok).toBe(
      false,
    );
    expect(twilioUrlVariants('https://h.example:8443/x')).toEqual(['https://h.example:8443/x']);
  });
});

describe('verifyTwilio failures', () => {
  it('rejects a one-byte change in a form param', () => {
    const body = formBody.replace('Digits=1234', 'Digits=1235');
    expect(verifyTwilio(req(v.url, body, v.expected_signature), TOKEN)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('rejects a changed JSON body even though only the URL is signed', () => {
    const r = req(
      v.json_body_url,
      v.json_body.replace('true', 'false'),
      v.json_body_expected_signature,
      'application/json',
    );
    expect(verifyTwilio(r, TOKEN)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a wrong auth token, a missing header and an unsigned non-form body', () => {
    expect(verifyTwilio(req(v.url, formBody, v.expected_signature), '54321').ok).toBe(false);
    expect(verifyTwilio(req(v.url, formBody), TOKEN)).toEqual({ ok: false, reason: 'missing' });
    const json = req(v.url, v.json_body, v.expected_signature, 'application/json');
    expect(verifyTwilio(json, TOKEN)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('reads the header whatever its case', () => {
    const r = req(v.url, formBody);
    r.headers = { 'Content-Type': FORM, 'X-Twilio-Signature': v.expected_signature };
    expect(verifyTwilio(r, TOKEN).ok).toBe(true);
  });

  it('signs empty and unicode params', () => {
    const body = new URLSearchParams({ Body: 'Привет 👋', Empty: '' }).toString();
    const sig = signTwilio(v.url, { Body: 'Привет 👋', Empty: '' }, TOKEN);
    expect(verifyTwilio(req(v.url, body, sig), TOKEN).ok).toBe(true);
    expect(verifyTwilio(req(v.url, '', signTwilio(v.url, {}, TOKEN)), TOKEN).ok).toBe(true);
  });
});

describe('publicUrl', () => {
  const incoming = (headers: Record<string, string>) => ({ url: '/myapp.php?foo=1&bar=2', headers });

  it('rebuilds the provider URL from forwarded headers when the proxy is trusted', () => {
    const r = incoming({
      host: '10.0.0.5:3000',
      'x-forwarded-proto': 'https, http',
      'x-forwarded-host': 'mycompany.com',
    });
    const url = publicUrl(r, { trustProxy: true });
    expect(url).toBe(v.url);
    expect(verifyTwilio(req(url!, formBody, v.expected_signature), TOKEN).ok).toBe(true);
  });

  it('ignores forwarded headers from an untrusted peer', () => {
    const r = incoming({
      host: 'mycompany.com',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
    });
    expect(publicUrl(r, { trustProxy: false })).toBe(httpUrl);
    expect(publicUrl({ ...r, encrypted: true }, { trustProxy: false })).toBe(v.url);
  });

  it('returns null for a missing or odd host', () => {
    expect(publicUrl(incoming({}), { trustProxy: false })).toBeNull();
    expect(publicUrl(incoming({ host: 'a.example/evil?' }), { trustProxy: false })).toBeNull();
    expect(publicUrl(incoming({ host: 'a@b.example' }), { trustProxy: false })).toBeNull();
  });
});
