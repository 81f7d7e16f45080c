import { ContractViolation } from '../errors';
import { CONTRACTS } from '../registry';
import { validateContract } from '../validation';
import {
  CALL_EVENT_TYPES,
  CallEventV1,
  CallRecordingV1,
  CallRecordV1,
  callEventKey,
  callRecordKey,
  callRecordOccurredAt,
  TELEPHONY_EVENT_TYPES,
} from './call-event';

const validEvent = () => ({
  provider: 'twilio',
  providerCallId: 'CA123',
  parentCallId: 'CA100',
  sequence: 2,
  direction: 'inbound',
  from: '+79123456789',
  to: '+74951234567',
  line: '+74951234567',
  extension: '101',
  callerName: 'Иван',
  occurredAt: '2024-03-31T01:00:05Z',
  answeredAt: '2024-03-31T01:00:05.123Z',
});

const validRecord = () => ({
  provider: 'asterisk',
  providerCallId: '1711839570.1',
  linkedId: '1711839570.1',
  direction: 'inbound',
  from: '+79123456789',
  to: '101',
  startedAt: '2024-03-30T22:59:30.000Z',
  answeredAt: '2024-03-30T22:59:40.000Z',
  endedAt: '2024-03-30T23:01:00.000Z',
  disposition: 'answered',
  durationSeconds: 90,
  billSeconds: 80,
  recordingUrl: 'https://pbx.example/rec/1.wav',
});

function violations(cls: typeof CallEventV1 | typeof CallRecordV1 | typeof CallRecordingV1, body: unknown) {
  try {
    validateContract<object>(cls, body);
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as ContractViolation).errors.map((x) => `${x.field}:${x.rule}`);
  }
  throw new Error('expected a violation');
}

describe('telephony contracts', () => {
  it('names the six call events and the CDR', () => {
    expect(CALL_EVENT_TYPES).toEqual([
      'telephony.call.started',
      'telephony.call.ringing',
      'telephony.call.answered',
      'telephony.call.transferred',
      'telephony.call.ended',
      'telephony.call.recording.ready',
    ]);
    expect(TELEPHONY_EVENT_TYPES.cdr).toBe('telephony.call.completed');
  });

  it('accepts a valid event and a withheld caller', () => {
    expect(validateContract(CallEventV1, validEvent()).callerName).toBe('Иван');
    expect(validateContract(CallEventV1, { ...validEvent(), from: '' }).from).toBe('');
  });

  it('rejects unknown fields, coercion and non-UTC times', () => {
    expect(violations(CallEventV1, { ...validEvent(), kind: 'started' })).toEqual([
      'kind:whitelistValidation',
    ]);
    expect(violations(CallEventV1, { ...validEvent(), sequence: '2' })).toContain('sequence:isInt');
    expect(violations(CallEventV1, { ...validEvent(), occurredAt: '2024-03-31T04:00:05+03:00' })).toEqual([
      'occurredAt:matches',
    ]);
    expect(violations(CallEventV1, { ...validEvent(), occurredAt: '2024-03-31 01:00:05' })).toContain(
      'occurredAt:isIso8601',
    );
  });

  it('rejects bad enums, empty ids and missing required fields', () => {
    const { to: _to, ...noTo } = validEvent();
    expect(violations(CallEventV1, noTo)).toContain('to:isNotEmpty');
    expect(violations(CallEventV1, { ...validEvent(), direction: 'incoming' })).toEqual(['direction:isIn']);
    expect(violations(CallEventV1, { ...validEvent(), disposition: 'NO ANSWER' })).toEqual([
      'disposition:isIn',
    ]);
    expect(violations(CallEventV1, { ...validEvent(), providerCallId: '' })).toEqual([
      'providerCallId:isNotEmpty',
    ]);
    expect(violations(CallEventV1, { ...validEvent(), provider: 'Twilio' })).toEqual(['provider:matches']);
    expect(violations(CallEventV1, { ...validEvent(), recordingUrl: 'file:///etc/passwd' })).toEqual([
      'recordingUrl:isUrl',
    ]);
  });

  it('requires a CDR to say when it started, how it ended and how long it took', () => {
    expect(validateContract(CallRecordV1, validRecord()).durationSeconds).toBe(90);
    const { startedAt: _s, disposition: _d, durationSeconds: _u, ...bare } = validRecord();
    expect(violations(CallRecordV1, bare).sort()).toEqual([
      'disposition:isIn',
      'durationSeconds:isInt',
      'durationSeconds:max',
      'durationSeconds:min',
      'startedAt:isIso8601',
      'startedAt:matches',
    ]);
    expect(violations(CallRecordV1, { ...validRecord(), billSeconds: -1 })).toEqual(['billSeconds:min']);
    expect(violations(CallRecordV1, { ...validRecord(), occurredAt: validRecord().endedAt })).toEqual([
      'occurredAt:whitelistValidation',
    ]);
  });

  it('derives stable natural keys', () => {
    const e = validateContract(CallEventV1, validEvent());
    expect(callEventKey(TELEPHONY_EVENT_TYPES.recordingReady, e)).toBe('twilio:CA123:recording.ready:2');
    const r = validateContract(CallRecordV1, validRecord());
    expect(callRecordKey(r)).toBe('asterisk:1711839570.1:cdr:2024-03-30T22:59:30.000Z');
    expect(callRecordOccurredAt(r)).toBe('2024-03-30T23:01:00.000Z');
  });
});

describe('telephony contracts: recording.ready names the call alone', () => {
  const recording = {
    provider: 'twilio',
    providerCallId: 'CA123',
    occurredAt: '2024-03-31T01:02:00Z',
    recordingUrl: 'https://api.twilio.com/rec/RE1',
    recordingId: 'RE1',
    durationSeconds: 57,
  };

  it('accepts a recording with no direction or parties; still checks what it has', () => {
    const dto = CONTRACTS[TELEPHONY_EVENT_TYPES.recordingReady].dto;
    expect((validateContract<object>(dto, recording) as CallRecordingV1).recordingId).toBe('RE1');
    expect(violations(CallRecordingV1, { ...recording, direction: 'sideways' })).toEqual(['direction:isIn']);
    expect(violations(CallRecordingV1, { ...recording, to: '' })).toEqual(['to:isNotEmpty']);
  });

  it('every other call event still requires direction, from and to', () => {
    for (const type of CALL_EVENT_TYPES.filter((t) => t !== TELEPHONY_EVENT_TYPES.recordingReady)) {
      expect(CONTRACTS[type].dto).toBe(CallEventV1);
    }
    expect(violations(CallEventV1, recording).sort()).toEqual([
      'direction:isIn',
      'from:isString',
      'from:maxLength',
      'to:isNotEmpty',
      'to:isString',
      'to:maxLength',
    ]);
  });
});
