import { ContractViolation } from '@switchboard/contracts';
import type { ProviderRequest } from '../provider-adapter';
import { tildaAdapter } from './tilda.adapter';

/** Tilda's connection check as its help documents it (https://help-ru.tilda.cc/formsscript): POST test=test. */
const TEST_PING = 'test=test';

const request = (
  body: string,
  {
    url = 'https://sb.example/v1/providers/tilda/site',
    headers = {},
  }: { url?: string; headers?: ProviderRequest['headers'] } = {},
): ProviderRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  rawBody: Buffer.from(body),
  body: Object.fromEntries(new URLSearchParams(body)),
  query: {},
});

describe('tildaAdapter', () => {
  it('answers the test=test connection check with 200 and publishes nothing', () => {
    expect(tildaAdapter.handshake?.(request(TEST_PING), '')).toEqual({
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: 'ok',
    });
    expect(tildaAdapter.handshake?.(request('Name=Anna&Phone=%2B79123456789&test=test'), '')).toBeNull();
  });

  it('verifies the shared secret from X-Api-Key or ?token=, in constant time', () => {
    const secret = 'tilda-shared-9f2';
    expect(tildaAdapter.verify(request('a=1', { headers: { 'X-Api-Key': secret } }), secret)).toEqual({
      ok: true,
    });
    const url = `https://sb.example/v1/providers/tilda/site?token=${secret}`;
    expect(tildaAdapter.verify(request('a=1', { url }), secret)).toEqual({ ok: true });
    expect(tildaAdapter.verify(request('a=1', { url: `${url}x` }), secret)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(tildaAdapter.verify(request('a=1'), secret)).toEqual({ ok: false, reason: 'missing' });
  });

  it('maps a form-urlencoded form post to one website.lead.submitted event', () => {
    // Shape of Tilda's fields per /work/shared/fixtures/tilda/payload-examples.md (synthetic values).
    const body =
      'Name=Anna+Petrova&Phone=%2B7+(912)+345-67-89&Email=anna%40example.com&Comments=Call+me&Question=Blue' +
      '&tranid=7807982%3A7606836802&formid=form1069343426&formname=Callback&utm_source=yandex' +
      '&COOKIES=_ga%3DGA1.2.111.222%3B+_ym_uid%3D333';
    const [event] = tildaAdapter.toEvents(
      request(body, { headers: { referer: 'https://site.example/p?utm_medium=cpc&utm_source=ignored' } }),
      { id: 'site', timezone: null },
    );
    expect(event).toMatchObject({
      type: 'website.lead.submitted',
      idempotencyKey: 'tilda:7807982:7606836802',
      payload: {
        kind: 'callback',
        formId: 'form1069343426',
        formName: 'Callback',
        name: 'Anna Petrova',
        phone: '+7 (912) 345-67-89',
        email: 'anna@example.com',
        message: 'Call me\nquestion: Blue',
        pageUrl: 'https://site.example/p?utm_medium=cpc&utm_source=ignored',
        utm: { source: 'yandex', medium: 'cpc' },
        analyticsClientId: '111.222',
        submissionId: '7807982:7606836802',
      },
    });
  });

  it('maps a JSON form-integration post and accepts its API key as a body field', () => {
    const json = { Name: 'Ivan', Phone: '89123456789', tranid: '1111111:6161583731', 'X-API-Key': 'k-1' };
    const req: ProviderRequest = { ...request(JSON.stringify(json)), body: json };
    expect(tildaAdapter.verify(req, 'k-1')).toEqual({ ok: true });
    expect(tildaAdapter.verify(req, 'k-2')).toEqual({ ok: false, reason: 'mismatch' });
    const [event] = tildaAdapter.toEvents(req, { id: 'site', timezone: null });
    expect(event.payload).toMatchObject({ kind: 'form', name: 'Ivan', phone: '89123456789' });
    expect(JSON.stringify(event.payload)).not.toContain('k-1');
  });

  it('refuses an empty post visibly', () => {
    expect(() => tildaAdapter.toEvents({ ...request(''), body: {} }, { id: 'site', timezone: null })).toThrow(
      ContractViolation,
    );
  });
});
