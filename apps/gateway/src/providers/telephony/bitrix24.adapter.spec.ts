import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallEventV1, ContractViolation, validateContract } from '@switchboard/contracts';
import { buildPhpForm } from '@switchboard/peer-auth';
import type { ProviderRequest } from '../provider-adapter';
import { bitrix24Adapter } from './bitrix24.adapter';

const sample = readFileSync(
  join(
    __dirname,
    '../../../../../test/fixtures/providers/telephony/bitrix24/ONEXTERNALCALLSTART.event-handler-body.json.txt',
  ),
  'utf8',
);
const parsed = JSON.parse(sample);
const TOKEN: string = parsed.auth.application_token;
const peer = { id: 'b24-portal', timezone: 'Europe/Moscow' };
const FORM = 'application/x-www-form-urlencoded';

const req = (body: string, type: string): ProviderRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/bitrix24',
  headers: { 'content-type': type },
  rawBody: Buffer.from(body),
  body: {},
  query: {},
});
// What standard Bitrix24 event delivery sends: the same tree as PHP-style form fields.
const phpForm = buildPhpForm(parsed);

const expected = {
  type: 'telephony.call.started',
  idempotencyKey: 'bitrix24:externalCall.89350264e026dace3f2b14d1f438257c.1773236989:started',
  payload: {
    provider: 'bitrix24',
    providerCallId: 'externalCall.89350264e026dace3f2b14d1f438257c.1773236989',
    direction: 'outbound',
    from: '',
    to: '+494951234567',
    line: '7',
    occurredAt: '2026-03-11T13:49:48.000Z',
  },
};

describe('bitrix24 adapter', () => {
  it('verifies auth.application_token in JSON and PHP-form bodies', () => {
    expect(bitrix24Adapter.verify(req(sample, 'application/json'), TOKEN)).toEqual({ ok: true });
    expect(bitrix24Adapter.verify(req(phpForm, FORM), TOKEN)).toEqual({ ok: true });
    expect(bitrix24Adapter.verify(req(sample, 'application/json'), 'another-token')).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    const { auth: _auth, ...noAuth } = parsed;
    expect(bitrix24Adapter.verify(req(buildPhpForm(noAuth), FORM), TOKEN)).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it.each([
    ['JSON (docs sample)', sample, 'application/json'],
    ['PHP-style form', phpForm, FORM],
  ])('maps ONEXTERNALCALLSTART from %s to started', (_name, body, type) => {
    const events = bitrix24Adapter.toEvents(req(body, type), peer);
    expect(events).toEqual([expected]);
    validateContract(CallEventV1, events[0].payload);
  });

  it('uses the extension as caller when Bitrix24 knows it; falls back to PHONE_NUMBER', () => {
    const withExt = { ...parsed, data: { ...parsed.data, EXTENSION: '101', PHONE_NUMBER_INTERNATIONAL: '' } };
    const [e] = bitrix24Adapter.toEvents(req(buildPhpForm(withExt), FORM), peer);
    expect(e.payload).toMatchObject({ from: '101', extension: '101', to: '+494951234567' });
  });

  it('rejects other events, a missing CALL_ID and a non-numeric ts', () => {
    const other = JSON.stringify({ ...parsed, event: 'ONEXTERNALCALLBACKSTART' });
    expect(() => bitrix24Adapter.toEvents(req(other, 'application/json'), peer)).toThrow(ContractViolation);
    const noId = { ...parsed, data: { ...parsed.data, CALL_ID: '' } };
    expect(() => bitrix24Adapter.toEvents(req(buildPhpForm(noId), FORM), peer)).toThrow(ContractViolation);
    const badTs = JSON.stringify({ ...parsed, ts: 'yesterday' });
    expect(() => bitrix24Adapter.toEvents(req(badTs, 'application/json'), peer)).toThrow(ContractViolation);
  });
});

/**
 * Issue 13: ONEXTERNALCALLSTART with the data fields the docs mark optional left empty or out (no inner
 * number, no line, no CRM entity, no international form). Accepted; refused only without CALL_ID or a number.
 */
describe('bitrix24 adapter: documented-optional fields', () => {
  const refusal = (run: () => unknown): string[] => {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(ContractViolation);
      return (e as ContractViolation).errors.map((x) => `${x.field}:${x.rule}`);
    }
    throw new Error('expected a refusal');
  };
  const withData = (data: Record<string, unknown>) =>
    JSON.stringify({ ...parsed, data: { ...parsed.data, ...data } });
  const adapt = (body: string) => bitrix24Adapter.toEvents(req(body, 'application/json'), peer);

  it.each([
    [
      'no EXTENSION, LINE_NUMBER or CRM entity',
      { EXTENSION: '', LINE_NUMBER: '', CRM_ENTITY_TYPE: '', CRM_ENTITY_ID: '' },
      { from: '', to: '+494951234567' },
    ],
    [
      'no PHONE_NUMBER_INTERNATIONAL',
      { PHONE_NUMBER_INTERNATIONAL: undefined, PHONE_NUMBER: '84951234567' },
      { to: '84951234567' },
    ],
    ['an inner number (EXTENSION) given', { EXTENSION: '101' }, { from: '101', extension: '101' }],
  ])('%s: accepted', (_name, data, expected) => {
    const [event] = adapt(withData(data));
    validateContract(CallEventV1, event.payload);
    expect(event.payload).toMatchObject(expected);
  });

  it.each([
    ['no CALL_ID', { CALL_ID: '' }, ['data.CALL_ID:isNotEmpty']],
    [
      'no number to call',
      { PHONE_NUMBER: '', PHONE_NUMBER_INTERNATIONAL: '' },
      ['data.PHONE_NUMBER:isNotEmpty'],
    ],
  ])('%s: refused', (_name, data, errors) => {
    expect(refusal(() => adapt(withData(data)))).toEqual(errors);
  });
});
