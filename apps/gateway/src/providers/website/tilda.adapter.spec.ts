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

  it('refuses form leads visibly until a lead contract exists', () => {
    expect(() => tildaAdapter.toEvents(request('Name=Anna'), { id: 'site', timezone: null })).toThrow(
      ContractViolation,
    );
  });
});
