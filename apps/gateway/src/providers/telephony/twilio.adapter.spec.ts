import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallEventV1, CallRecordingV1, ContractViolation, validateContract } from '@switchboard/contracts';
import { signTwilio } from '@switchboard/peer-auth';
import type { ProviderRequest } from '../provider-adapter';
import { twilioAdapter } from './twilio.adapter';

const v = JSON.parse(
  readFileSync(
    join(
      __dirname,
      '../../../../../test/fixtures/providers/telephony/twilio/signature-test-vectors.json.txt',
    ),
    'utf8',
  ),
);
const FORM = 'application/x-www-form-urlencoded';
const URL = 'https://sb.example/hooks/twilio';
const peer = { id: 'twilio-main', timezone: 'Europe/Moscow' }; // must not matter: Twilio times carry offsets

const req = (body: string, headers: Record<string, string> = {}, url = URL): ProviderRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': FORM, ...headers },
  rawBody: Buffer.from(body),
  body: Object.fromEntries(new URLSearchParams(body)),
  query: {},
});

// Status callback parameters as listed in the shared SOURCE.md (the capture's names); values are ours.
const callback = (over: Record<string, string>) =>
  new URLSearchParams({
    AccountSid: 'AC00000000000000000000000000000000',
    ApiVersion: '2010-04-01',
    CallSid: 'CA0123456789abcdef0123456789abcdef',
    CallStatus: 'ringing',
    Direction: 'inbound',
    From: '+79123456789',
    To: '+74951234567',
    Called: '+74951234567',
    Caller: '+79123456789',
    CallerCity: 'Москва',
    CallbackSource: 'call-progress-events',
    SequenceNumber: '0',
    Timestamp: 'Sun, 31 Mar 2024 09:00:00 +0000',
    ...over,
  }).toString();

describe('twilio adapter: signature', () => {
  const vectorBody = new URLSearchParams(v.params).toString();

  it('accepts the published twilio-python vector and rejects a changed body or token', () => {
    const signed = { 'x-twilio-signature': v.expected_signature };
    expect(twilioAdapter.verify(req(vectorBody, signed, v.url), v.auth_token)).toEqual({ ok: true });
    expect(
      twilioAdapter.verify(req(vectorBody.replace('1234', '1235'), signed, v.url), v.auth_token),
    ).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(twilioAdapter.verify(req(vectorBody, signed, v.url), 'other')).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(twilioAdapter.verify(req(vectorBody, {}, v.url), v.auth_token)).toEqual({
      ok: false,
      reason: 'missing',
    });
  });

  it('accepts a status callback signed like Twilio signs it', () => {
    const body = callback({ CallStatus: 'completed', CallDuration: '42' });
    const sig = signTwilio(URL, new URLSearchParams(body), 'token');
    expect(twilioAdapter.verify(req(body, { 'x-twilio-signature': sig }), 'token')).toEqual({ ok: true });
  });
});

describe('twilio adapter: events', () => {
  const only = (body: string) => {
    const events = twilioAdapter.toEvents(req(body), peer);
    for (const e of events)
      validateContract<object>(
        e.type === 'telephony.call.recording.ready' ? CallRecordingV1 : CallEventV1,
        e.payload,
      );
    return events;
  };

  it('maps ringing with sequence, line and the RFC 2822 timestamp in UTC', () => {
    expect(only(callback({ SequenceNumber: '1', CallerName: 'Иван Петров' }))).toEqual([
      {
        type: 'telephony.call.ringing',
        idempotencyKey: 'twilio:CA0123456789abcdef0123456789abcdef:ringing',
        payload: {
          provider: 'twilio',
          providerCallId: 'CA0123456789abcdef0123456789abcdef',
          sequence: 1,
          direction: 'inbound',
          from: '+79123456789',
          to: '+74951234567',
          line: '+74951234567',
          callerName: 'Иван Петров',
          occurredAt: '2024-03-31T09:00:00.000Z',
        },
      },
    ]);
  });

  it('maps initiated/queued to started and in-progress to answered', () => {
    const [started] = only(
      callback({ CallStatus: 'initiated', Direction: 'outbound-api', From: '+7495', To: '+7912' }),
    );
    expect(started.type).toBe('telephony.call.started');
    expect(started.payload).toMatchObject({
      direction: 'outbound',
      line: '+7495',
      startedAt: '2024-03-31T09:00:00.000Z',
    });
    const [answered] = only(
      callback({ CallStatus: 'in-progress', Timestamp: 'Sun, 31 Mar 2024 12:00:05 +0300' }),
    );
    expect(answered.type).toBe('telephony.call.answered');
    expect(answered.payload.answeredAt).toBe('2024-03-31T09:00:05.000Z');
  });

  it('ends a completed call with its duration given as a string, and a child leg with its parent', () => {
    const [ended] = only(
      callback({
        CallStatus: 'completed',
        Direction: 'outbound-dial',
        ParentCallSid: 'CAparent',
        CallDuration: '42',
        Duration: '1',
        SequenceNumber: '3',
      }),
    );
    expect(ended.type).toBe('telephony.call.ended');
    expect(ended.payload).toMatchObject({
      parentCallId: 'CAparent',
      direction: 'outbound',
      disposition: 'answered',
      durationSeconds: 42,
      endedAt: '2024-03-31T09:00:00.000Z',
      sequence: 3,
    });
    expect(ended.payload).not.toHaveProperty('line');
  });

  it.each([
    ['no-answer', 'inbound', 'missed'],
    ['no-answer', 'outbound-api', 'no-answer'],
    ['busy', 'inbound', 'busy'],
    ['failed', 'inbound', 'failed'],
    ['canceled', 'inbound', 'cancelled'],
  ])('maps %s (%s) to %s', (status, direction, disposition) => {
    const [ended] = only(callback({ CallStatus: status, Direction: direction, CallDuration: '0' }));
    expect(ended.payload.disposition).toBe(disposition);
  });

  it('marks a machine-answered call as voicemail and keeps the SIP code', () => {
    const [ended] = only(
      callback({
        CallStatus: 'completed',
        AnsweredBy: 'machine_end_beep',
        SipResponseCode: '200',
        CallDuration: '9',
      }),
    );
    expect(ended.payload).toMatchObject({ disposition: 'voicemail', hangupCause: 'sip:200' });
  });

  it('adds recording.ready when the final callback carries the recording', () => {
    const events = only(
      callback({
        CallStatus: 'completed',
        CallDuration: '42',
        RecordingUrl: 'https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE123',
        RecordingSid: 'RE123',
        RecordingDuration: '40',
      }),
    );
    expect(events.map((e) => e.type)).toEqual(['telephony.call.ended', 'telephony.call.recording.ready']);
    expect(events[1].payload).toMatchObject({
      recordingUrl: 'https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE123',
      recordingId: 'RE123',
      durationSeconds: 40,
    });
    expect(events[1].idempotencyKey).toBe('twilio:CA0123456789abcdef0123456789abcdef:recording:RE123');
  });

  describe('the separate recording status callback', () => {
    // Parameters of Twilio's recordingStatusCallback; no CallStatus, Direction, From or To.
    const recordingCallback = (over: Record<string, string> = {}) =>
      new URLSearchParams({
        AccountSid: 'AC00000000000000000000000000000000',
        CallSid: 'CA0123456789abcdef0123456789abcdef',
        RecordingSid: 'RE0123456789abcdef0123456789abcdef',
        RecordingUrl:
          'https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE0123456789abcdef0123456789abcdef',
        RecordingStatus: 'completed',
        RecordingDuration: '57',
        RecordingChannels: '2',
        RecordingSource: 'DialVerb',
        RecordingStartTime: 'Sun, 31 Mar 2024 09:00:10 +0000',
        ...over,
      }).toString();

    it('completed -> recording.ready with the URL as given, the sid as id and no parties (it knows none)', () => {
      jest.useFakeTimers().setSystemTime(new Date('2024-03-31T09:02:00Z'));
      try {
        expect(only(recordingCallback())).toEqual([
          {
            type: 'telephony.call.recording.ready',
            // The key of the recording.ready a final status callback with this recording gives.
            idempotencyKey:
              'twilio:CA0123456789abcdef0123456789abcdef:recording:RE0123456789abcdef0123456789abcdef',
            payload: {
              provider: 'twilio',
              providerCallId: 'CA0123456789abcdef0123456789abcdef',
              occurredAt: '2024-03-31T09:02:00.000Z',
              recordingUrl:
                'https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE0123456789abcdef0123456789abcdef',
              recordingId: 'RE0123456789abcdef0123456789abcdef',
              durationSeconds: 57,
            },
          },
        ]);
      } finally {
        jest.useRealTimers();
      }
    });

    it('groups a child leg recording with its call through ParentCallSid', () => {
      const [ready] = only(recordingCallback({ CallSid: 'CAchild', ParentCallSid: 'CAparent' }));
      expect(ready.payload).toMatchObject({ providerCallId: 'CAchild', parentCallId: 'CAparent' });
    });

    it.each(['in-progress', 'absent', 'failed', 'paused', 'stopped', 'processing'])(
      '%s -> understood, no event',
      (status) => {
        expect(only(recordingCallback({ RecordingStatus: status, RecordingUrl: '' }))).toEqual([]);
      },
    );

    it('a completed recording without RecordingUrl or CallSid is refused', () => {
      const fields = (body: string) => {
        try {
          only(body);
        } catch (err) {
          return (err as ContractViolation).errors.map((e) => e.field);
        }
        return [];
      };
      expect(fields(recordingCallback({ RecordingUrl: '' }))).toEqual(['RecordingUrl']);
      expect(fields(recordingCallback({ CallSid: '' }))).toEqual(['CallSid']);
    });

    it('a call status callback that also names a RecordingStatus stays a call status callback', () => {
      const events = only(
        callback({ CallStatus: 'completed', CallDuration: '5', RecordingStatus: 'completed' }),
      );
      expect(events.map((e) => e.type)).toEqual(['telephony.call.ended']);
    });
  });

  it('uses receipt time when Twilio sends no Timestamp (the first voice webhook)', () => {
    jest.useFakeTimers().setSystemTime(new Date('2024-05-01T10:00:00Z'));
    try {
      const body = new URLSearchParams(callback({})).toString().replace(/&Timestamp=[^&]*/, '');
      expect(only(body)[0].payload.occurredAt).toBe('2024-05-01T10:00:00.000Z');
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects unknown statuses and directions, and a repeated CallSid', () => {
    expect(() => only(callback({ CallStatus: 'exploded' }))).toThrow(ContractViolation);
    expect(() => only(callback({ Direction: 'sideways' }))).toThrow(ContractViolation);
    expect(() => only(`${callback({})}&CallSid=CAother`)).toThrow(ContractViolation);
    expect(() => only('CallSid=CA1&Direction=inbound&To=%2B1')).toThrow(ContractViolation);
  });
});

/** The refused fields of a call that throws a ContractViolation (`field:rule`). */
const refusal = (run: () => unknown): string[] => {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as ContractViolation).errors.map((x) => `${x.field}:${x.rule}`);
  }
  throw new Error('expected a refusal');
};

/**
 * Issue 13: each call outcome Twilio documents (voice webhook, status callbacks, recording status callback)
 * with what it leaves out in that outcome. Accepted where Twilio sends it; refused only when unusable.
 */
describe('twilio adapter: documented-optional fields per call outcome', () => {
  const outcomes: Array<[string, Record<string, string>, string[], Record<string, unknown>]> = [
    [
      'the first voice webhook (no Timestamp, no SequenceNumber)',
      { Timestamp: '', SequenceNumber: '' },
      ['telephony.call.ringing'],
      { direction: 'inbound', to: '+74951234567' },
    ],
    ['a withheld caller (From absent)', { From: '' }, ['telephony.call.ringing'], { from: '' }],
    ['an anonymous caller', { From: 'anonymous' }, ['telephony.call.ringing'], { from: 'anonymous' }],
    [
      'hung up in the IVR: completed, no agent leg',
      { CallStatus: 'completed', CallDuration: '7' },
      ['telephony.call.ended'],
      { disposition: 'answered', billSeconds: 7 },
    ],
    [
      'queue/dial timeout: no-answer, no CallDuration',
      { CallStatus: 'no-answer' },
      ['telephony.call.ended'],
      { disposition: 'missed' },
    ],
    [
      'busy outbound call, no CallDuration',
      { CallStatus: 'busy', Direction: 'outbound-api', From: '+74951234567', To: '+79123456789' },
      ['telephony.call.ended'],
      { disposition: 'busy', direction: 'outbound', line: '+74951234567' },
    ],
    [
      'failed outbound call with a SIP code',
      { CallStatus: 'failed', Direction: 'outbound-api', SipResponseCode: '404', CallDuration: '0' },
      ['telephony.call.ended'],
      { disposition: 'failed', hangupCause: 'sip:404' },
    ],
    [
      'caller hung up while ringing: canceled',
      { CallStatus: 'canceled' },
      ['telephony.call.ended'],
      { disposition: 'cancelled' },
    ],
    [
      'answered by a machine (AMD): voicemail, no talk',
      { CallStatus: 'completed', CallDuration: '20', AnsweredBy: 'machine_end_beep' },
      ['telephony.call.ended'],
      { disposition: 'voicemail' },
    ],
    [
      'forwarded call (ForwardedFrom) answered',
      { CallStatus: 'completed', CallDuration: '49', ForwardedFrom: '+74950000000' },
      ['telephony.call.ended'],
      { disposition: 'answered', durationSeconds: 49, billSeconds: 49 },
    ],
    [
      'a dialled agent leg (outbound-dial with ParentCallSid): no line of ours',
      { Direction: 'outbound-dial', ParentCallSid: 'CAparent', CallStatus: 'in-progress' },
      ['telephony.call.answered'],
      { direction: 'outbound', parentCallId: 'CAparent' },
    ],
    [
      'SIP trunking into the PBX (trunking-originating)',
      { Direction: 'trunking-originating' },
      ['telephony.call.ringing'],
      { direction: 'inbound', line: '+74951234567' },
    ],
    [
      'SIP trunking out of the PBX (trunking-terminating)',
      { Direction: 'trunking-terminating', From: '+74951234567', To: '+79123456789' },
      ['telephony.call.ringing'],
      { direction: 'outbound', line: '+74951234567' },
    ],
    ['an empty CallerName', { CallerName: '' }, ['telephony.call.ringing'], { direction: 'inbound' }],
  ];

  it.each(outcomes)('%s: accepted', (_name, over, types, expected) => {
    const events = twilioAdapter.toEvents(req(callback(over)), peer);
    expect(events.map((e) => e.type)).toEqual(types);
    validateContract(CallEventV1, events[0].payload);
    expect(events[0].payload).toMatchObject(expected);
    // An empty CallerName gives no callerName; an outbound-dial leg has no line of ours.
    expect(over.CallerName === '' && 'callerName' in events[0].payload).toBe(false);
    expect(over.Direction === 'outbound-dial' && 'line' in events[0].payload).toBe(false);
  });

  it('completed with AnsweredBy=machine carries no talk time', () => {
    const [ended] = twilioAdapter.toEvents(
      req(callback({ CallStatus: 'completed', CallDuration: '20', AnsweredBy: 'machine_start' })),
      peer,
    );
    expect(ended.payload).not.toHaveProperty('billSeconds');
  });

  it.each([
    ['no CallSid', { CallSid: '' }, ['CallSid:isNotEmpty']],
    ['no To', { To: '' }, ['To:isNotEmpty']],
    ['an unknown Direction', { Direction: 'sideways' }, ['Direction:isIn']],
    ['an unknown CallStatus', { CallStatus: 'exploded' }, ['CallStatus:isIn']],
  ])('%s: refused', (_name, over, errors) => {
    expect(refusal(() => twilioAdapter.toEvents(req(callback(over)), peer))).toEqual(errors);
  });
});
