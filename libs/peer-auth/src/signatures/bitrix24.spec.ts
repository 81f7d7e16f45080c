import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyBitrix24 } from './bitrix24';
import { buildPhpForm, parsePhpForm } from './php-form';
import type { SignedRequest } from './types';

const json = readFileSync(
  join(
    __dirname,
    '../../../../test/fixtures/providers/bitrix24/ONEXTERNALCALLSTART.event-handler-body.json.txt',
  ),
  'utf8',
);
const event = JSON.parse(json) as { auth: Record<string, string> } & Record<string, unknown>;
const TOKEN = event.auth.application_token;
const formBody = buildPhpForm(event);
const req = (body: string, type?: string): SignedRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/bitrix24',
  headers: type ? { 'content-type': type } : {},
  rawBody: Buffer.from(body),
});
const FORM = 'application/x-www-form-urlencoded';

describe('verifyBitrix24', () => {
  it('accepts the sample as JSON (with or without a content type)', () => {
    expect(verifyBitrix24(req(json, 'application/json; charset=utf-8'), TOKEN)).toEqual({ ok: true });
    expect(verifyBitrix24(req(json), TOKEN)).toEqual({ ok: true });
  });

  it('accepts the sample PHP-form encoded, as Bitrix24 delivers events', () => {
    expect(formBody).toContain('auth%5Bapplication_token%5D=51610fefc120afg4b628cc82d6298cce');
    expect(parsePhpForm(formBody)).toEqual(event);
    expect(verifyBitrix24(req(formBody, FORM), TOKEN)).toEqual({ ok: true });
  });

  it('rejects a wrong stored token and a one-byte token change', () => {
    expect(verifyBitrix24(req(formBody, FORM), 'another-token')).toEqual({ ok: false, reason: 'mismatch' });
    const changed = formBody.replace(TOKEN, TOKEN.slice(0, -1) + 'd');
    expect(verifyBitrix24(req(changed, FORM), TOKEN)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('reports a missing token and a malformed JSON body', () => {
    const noAuth = buildPhpForm({ ...event, auth: { domain: 'x.bitrix24.com' } });
    expect(verifyBitrix24(req(noAuth, FORM), TOKEN)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyBitrix24(req('', FORM), TOKEN)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyBitrix24(req('{"auth":', 'application/json'), TOKEN)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(verifyBitrix24(req('auth[application_token][x]=1', FORM), TOKEN)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });
});
