import { createHmac } from 'node:crypto';
import { CallEventV1, CallRecordV1, ContractViolation, validateContract } from '@switchboard/contracts';
import { signZadarmaEvent } from '@switchboard/peer-auth';
import type { ProviderRequest } from '../provider-adapter';
import { zadarmaAdapter } from './zadarma.adapter';

const SECRET = 'zadarma-api-secret';
const peer = { id: 'zadarma-main', timezone: 'Europe/Moscow' };

// No captured NOTIFY_* exists (shared zadarma/SOURCE.md); bodies use the SDK's field names.
const req = (
  fields: Record<string, string>,
  signature?: string,
  method = 'POST',
  url = 'https://sb.example/hooks/zadarma',
): ProviderRequest => {
  const body = new URLSearchParams(fields).toString();
  return {
    method,
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { signature } : {}) },
    rawBody: Buffer.from(body),
    body: fields,
    query: {},
  };
};

const start = {
  event: 'NOTIFY_START',
  call_start: '2024-03-31 12:00:00',
  pbx_call_id: 'in_7a1b2c3d4e',
  caller_id: '+79123456789',
  called_did: '74951234567',
};
const end = {
  ...start,
  event: 'NOTIFY_END',
  internal: '101',
  duration: '65',
  disposition: 'answered',
  status_code: '16',
  is_recorded: '1',
  call_id_with_rec: '1711875600.123',
  unknown_future_field: 'ignored',
};

const toEvents = (fields: Record<string, string>) => {
  const events = zadarmaAdapter.toEvents(req(fields), peer);
  for (const e of events) {
    validateContract<object>(e.type === 'telephony.call.completed' ? CallRecordV1 : CallEventV1, e.payload);
  }
  return events;
};

describe('zadarma adapter: auth and zd_echo', () => {
  it('verifies the SDK signature (base64 of the hex HMAC-SHA1) and rejects a tampered field', () => {
    const hex = createHmac('sha1', SECRET)
      .update('+7912345678974951234567' + '2024-03-31 12:00:00')
      .digest('hex');
    const sig = Buffer.from(hex).toString('base64');
    expect(signZadarmaEvent(start, SECRET)).toBe(sig);
    expect(zadarmaAdapter.verify(req(start, sig), SECRET)).toEqual({ ok: true });
    expect(zadarmaAdapter.verify(req({ ...start, caller_id: '+70000000000' }, sig), SECRET)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(zadarmaAdapter.verify(req(start), SECRET)).toEqual({ ok: false, reason: 'missing' });
  });

  it('echoes zd_echo on GET only', () => {
    const check = req({}, undefined, 'GET', 'https://sb.example/hooks/zadarma?zd_echo=abc123');
    expect(zadarmaAdapter.handshake!(check, SECRET)).toEqual({
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: 'abc123',
    });
    expect(
      zadarmaAdapter.handshake!(
        req(start, undefined, 'POST', 'https://sb.example/hooks/zadarma?zd_echo=1'),
        SECRET,
      ),
    ).toBeNull();
    expect(zadarmaAdapter.handshake!(req({}, undefined, 'GET'), SECRET)).toBeNull();
  });
});

describe('zadarma adapter: events', () => {
  beforeAll(() => jest.useFakeTimers().setSystemTime(new Date('2024-03-31T09:01:10Z')));
  afterAll(() => jest.useRealTimers());

  it('NOTIFY_START -> started, call_start read in the peer zone (Moscow, UTC+3)', () => {
    expect(toEvents(start)).toEqual([
      {
        type: 'telephony.call.started',
        idempotencyKey: 'zadarma:in_7a1b2c3d4e:started',
        payload: {
          provider: 'zadarma',
          providerCallId: 'in_7a1b2c3d4e',
          direction: 'inbound',
          from: '+79123456789',
          to: '74951234567',
          line: '74951234567',
          startedAt: '2024-03-31T09:00:00.000Z',
          occurredAt: '2024-03-31T09:00:00.000Z',
        },
      },
    ]);
  });

  it('reads call_start in the peer zone: UTC when it has none, and the zone of the account otherwise', () => {
    const at = (timezone: string | null) =>
      zadarmaAdapter.toEvents(req(start), { id: 'zd', timezone })[0].payload.startedAt;
    expect(at(null)).toBe('2024-03-31T12:00:00.000Z');
    expect(at('Asia/Yekaterinburg')).toBe('2024-03-31T07:00:00.000Z');
    expect(at('Europe/Berlin')).toBe('2024-03-31T10:00:00.000Z'); // the day Berlin moved to summer time
  });

  it('keeps a withheld caller as an empty from, and an unanswered call without answer time', () => {
    const [started] = toEvents({ ...start, caller_id: '' });
    expect(started.payload.from).toBe('');
    const [ended, cdr] = toEvents({
      ...end,
      caller_id: '',
      disposition: 'no answer',
      duration: '0',
      is_recorded: '0',
    });
    expect(ended.payload).not.toHaveProperty('answeredAt');
    expect(cdr.payload).toMatchObject({ from: '', disposition: 'missed', durationSeconds: 0 });
  });

  it('NOTIFY_INTERNAL -> ringing on the extension; NOTIFY_ANSWER -> answered at receipt', () => {
    const [ringing] = toEvents({ ...start, event: 'NOTIFY_INTERNAL', internal: '101' });
    expect(ringing).toMatchObject({
      type: 'telephony.call.ringing',
      idempotencyKey: 'zadarma:in_7a1b2c3d4e:ringing:101',
    });
    expect(ringing.payload.extension).toBe('101');
    const answer = {
      event: 'NOTIFY_ANSWER',
      caller_id: '+79123456789',
      destination: '74951234567',
      call_start: start.call_start,
      pbx_call_id: start.pbx_call_id,
      internal: '101',
    };
    const [answered] = toEvents(answer);
    expect(answered.type).toBe('telephony.call.answered');
    expect(answered.payload).toMatchObject({
      to: '74951234567',
      extension: '101',
      answeredAt: '2024-03-31T09:01:10.000Z',
    });
  });

  it('NOTIFY_END -> ended + CDR + recording.ready; duration as string -> number; extra fields ignored', () => {
    const events = toEvents(end);
    expect(events.map((e) => e.type)).toEqual([
      'telephony.call.ended',
      'telephony.call.completed',
      'telephony.call.recording.ready',
    ]);
    expect(events[1]).toEqual({
      type: 'telephony.call.completed',
      idempotencyKey: 'zadarma:in_7a1b2c3d4e:cdr',
      payload: {
        provider: 'zadarma',
        providerCallId: 'in_7a1b2c3d4e',
        direction: 'inbound',
        from: '+79123456789',
        to: '74951234567',
        line: '74951234567',
        extension: '101',
        startedAt: '2024-03-31T09:00:00.000Z',
        disposition: 'answered',
        hangupCause: '16',
        durationSeconds: 65,
        recordingId: '1711875600.123',
      },
    });
    expect(events[2].payload.recordingId).toBe('1711875600.123');
  });

  it.each([
    ['no answer', 'missed', undefined],
    ['busy', 'busy', undefined],
    ['cancel', 'cancelled', undefined],
    ['no money', 'failed', 'no money'],
  ])('disposition "%s" -> %s', (raw, disposition, cause) => {
    const fields = { ...end, disposition: raw, is_recorded: '0', duration: '0' } as Record<string, string>;
    delete fields.status_code;
    const events = toEvents(fields);
    expect(events).toHaveLength(2);
    expect(events[1].payload.disposition).toBe(disposition);
    expect(events[1].payload.hangupCause).toBe(cause);
  });

  it('NOTIFY_OUT_START / NOTIFY_OUT_END: the extension calls out through our caller id', () => {
    const out = {
      event: 'NOTIFY_OUT_START',
      call_start: '2024-10-27 02:30:00',
      pbx_call_id: 'out_1',
      internal: '102',
      destination: '+79991112233',
    };
    const [started] = toEvents(out);
    expect(started.payload).toMatchObject({
      direction: 'outbound',
      from: '102',
      to: '+79991112233',
      extension: '102',
    });
    const [, cdr] = toEvents({
      ...out,
      event: 'NOTIFY_OUT_END',
      caller_id: '74951234567',
      duration: '0',
      disposition: 'no answer',
      status_code: '19',
      is_recorded: '0',
    });
    expect(cdr.payload).toMatchObject({
      direction: 'outbound',
      line: '74951234567',
      disposition: 'no-answer',
    });
  });

  describe('times of late and early webhooks', () => {
    const answer = {
      event: 'NOTIFY_ANSWER',
      caller_id: '+79123456789',
      destination: '101',
      call_start: start.call_start,
      pbx_call_id: start.pbx_call_id,
      internal: '101',
    };
    const at = (iso: string, fn: () => void) => {
      jest.setSystemTime(new Date(iso));
      try {
        fn();
      } finally {
        jest.setSystemTime(new Date('2024-03-31T09:01:10Z'));
      }
    };

    it('NOTIFY_END a day late -> ended (and its recording) at call_start + duration, not at arrival', () => {
      at('2024-04-01T15:00:00Z', () => {
        const [ended, cdr, recording] = toEvents(end);
        expect(ended.payload).toMatchObject({
          startedAt: '2024-03-31T09:00:00.000Z',
          endedAt: '2024-03-31T09:01:05.000Z',
          occurredAt: '2024-03-31T09:01:05.000Z',
          durationSeconds: 65,
        });
        expect(cdr.payload).toMatchObject({ startedAt: '2024-03-31T09:00:00.000Z', durationSeconds: 65 });
        expect(recording.payload.occurredAt).toBe('2024-03-31T09:01:05.000Z');
      });
    });

    it('NOTIFY_OUT_END: call_start read in the peer zone, + duration', () => {
      at('2024-10-28T00:00:00Z', () => {
        const [ended] = toEvents({
          event: 'NOTIFY_OUT_END',
          call_start: '2024-10-27 02:30:00',
          pbx_call_id: 'out_1',
          internal: '102',
          destination: '+79991112233',
          caller_id: '74951234567',
          duration: '90',
          disposition: 'answered',
          status_code: '16',
          is_recorded: '0',
        });
        expect(ended.payload).toMatchObject({
          startedAt: '2024-10-26T23:30:00.000Z',
          endedAt: '2024-10-26T23:31:30.000Z',
          occurredAt: '2024-10-26T23:31:30.000Z',
        });
      });
    });

    it('NOTIFY_ANSWER / NOTIFY_INTERNAL received before call_start (clock skew) -> at call_start', () => {
      at('2024-03-31T08:59:50Z', () => {
        const [answered] = toEvents(answer);
        expect(answered.payload).toMatchObject({
          answeredAt: '2024-03-31T09:00:00.000Z',
          occurredAt: '2024-03-31T09:00:00.000Z',
        });
        const [ringing] = toEvents({ ...start, event: 'NOTIFY_INTERNAL', internal: '101' });
        expect(ringing.payload.occurredAt).toBe('2024-03-31T09:00:00.000Z');
      });
    });

    it('NOTIFY_ANSWER received late keeps its arrival time (the event carries no answer time)', () => {
      at('2024-03-31T10:00:00Z', () => {
        expect(toEvents(answer)[0].payload.answeredAt).toBe('2024-03-31T10:00:00.000Z');
      });
    });
  });

  it('acknowledges NOTIFY_RECORD and NOTIFY_IVR without events; rejects unknown events and missing fields', () => {
    expect(toEvents({ event: 'NOTIFY_RECORD', pbx_call_id: 'in_1', call_id_with_rec: '1.2' })).toEqual([]);
    expect(toEvents({ ...start, event: 'NOTIFY_IVR' })).toEqual([]);
    expect(() => toEvents({ ...start, event: 'NOTIFY_SMS' })).toThrow(ContractViolation);
    expect(() => toEvents({ ...end, duration: 'long' })).toThrow(ContractViolation);
    expect(() => toEvents({ ...start, call_start: '31.03.2024' })).toThrow(ContractViolation);
  });
});

/**
 * Issue 13: each call outcome of the SDK's NOTIFY_* events with the fields it leaves empty or out in that
 * outcome. Accepted where Zadarma sends it; refused only when nothing usable is left.
 */
describe('zadarma adapter: documented-optional fields per call outcome', () => {
  const refusal = (run: () => unknown): string[] => {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(ContractViolation);
      return (e as ContractViolation).errors.map((x) => `${x.field}:${x.rule}`);
    }
    throw new Error('expected a refusal');
  };
  const types = (fields: Record<string, string>) => toEvents(fields).map((e) => e.type);
  const payload = (fields: Record<string, string>) => toEvents(fields)[0].payload;
  const ivrHangup = {
    ...start,
    event: 'NOTIFY_END',
    duration: '8',
    disposition: 'cancel',
    status_code: '',
    is_recorded: '0',
  };

  const outcomes: Array<[string, Record<string, string>, string[], Record<string, unknown>]> = [
    [
      'NOTIFY_START of a withheld caller',
      { ...start, caller_id: '' },
      ['telephony.call.started'],
      { from: '' },
    ],
    [
      'NOTIFY_END of a hang-up in the IVR (no internal, no recording, empty status_code)',
      ivrHangup,
      ['telephony.call.ended', 'telephony.call.completed'],
      { disposition: 'cancelled', hangupCause: undefined },
    ],
    [
      'NOTIFY_END of a queue timeout',
      { ...ivrHangup, disposition: 'no answer', duration: '45', status_code: '19' },
      ['telephony.call.ended', 'telephony.call.completed'],
      { disposition: 'missed', hangupCause: '19' },
    ],
    [
      'NOTIFY_END of a busy extension',
      { ...ivrHangup, internal: '101', disposition: 'busy', status_code: '17' },
      ['telephony.call.ended', 'telephony.call.completed'],
      { disposition: 'busy', extension: '101' },
    ],
    [
      'NOTIFY_END of a call to the PBX by SIP (no called_did): the extension is the called party',
      { ...end, called_did: '', is_recorded: '0' },
      ['telephony.call.ended', 'telephony.call.completed'],
      { to: '101', disposition: 'answered' },
    ],
    [
      'NOTIFY_END recorded but call_id_with_rec not yet known',
      { ...end, call_id_with_rec: '' },
      ['telephony.call.ended', 'telephony.call.completed'],
      { disposition: 'answered' },
    ],
    [
      'NOTIFY_ANSWER (destination, no called_did)',
      { ...start, event: 'NOTIFY_ANSWER', called_did: '', destination: '74951234567', internal: '101' },
      ['telephony.call.answered'],
      { to: '74951234567', extension: '101' },
    ],
    [
      'NOTIFY_OUT_START (no caller_id)',
      {
        event: 'NOTIFY_OUT_START',
        call_start: '2024-03-31 12:00:00',
        pbx_call_id: 'out_1',
        internal: '101',
        destination: '79123456789',
      },
      ['telephony.call.started'],
      { direction: 'outbound', from: '101', to: '79123456789' },
    ],
    [
      'NOTIFY_OUT_END of a failed outbound call (no money)',
      {
        event: 'NOTIFY_OUT_END',
        call_start: '2024-03-31 12:00:00',
        pbx_call_id: 'out_2',
        internal: '101',
        destination: '79123456789',
        caller_id: '',
        duration: '0',
        disposition: 'no money',
        is_recorded: '0',
      },
      ['telephony.call.ended', 'telephony.call.completed'],
      { direction: 'outbound', disposition: 'failed', hangupCause: 'no money', from: '101' },
    ],
  ];

  it.each(outcomes)('%s: accepted', (_name, fields, expectedTypes, expected) => {
    expect(types(fields)).toEqual(expectedTypes);
    const first = payload(fields);
    // A key expected undefined must be absent; every other one present with that value.
    const present = Object.fromEntries(
      Object.keys(expected)
        .filter((k) => k in first)
        .map((k) => [k, first[k]]),
    );
    expect(present).toEqual(Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)));
  });

  it.each([
    ['NOTIFY_END without duration', { ...end, duration: '' }, ['duration:isNotEmpty']],
    ['NOTIFY_END without pbx_call_id', { ...end, pbx_call_id: '' }, ['pbx_call_id:isNotEmpty']],
    [
      'an inbound call naming no called party at all',
      { ...end, called_did: '', internal: '' },
      ['called_did:isNotEmpty'],
    ],
  ])('%s: refused', (_name, fields, errors) => {
    expect(refusal(() => toEvents(fields))).toEqual(errors);
  });
});
