import { TELEPHONY_EVENT_TYPES as T, type TelephonyEventType } from '@switchboard/contracts';
import { callKeyOf, foldCall, orderFacts, type CallFact } from './call-fold';

let n = 0;
function fact(type: TelephonyEventType, payload: Record<string, unknown>): CallFact {
  n += 1;
  return {
    eventId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    type,
    payload: {
      provider: 'twilio',
      providerCallId: 'CA1',
      direction: 'inbound',
      from: '+79123456789',
      to: '+74950000000',
      ...payload,
    } as never,
  };
}

/** Every ordering of a small list (or a fixed sample of them for longer ones). */
function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('foldCall', () => {
  const answeredInbound = [
    fact(T.started, { occurredAt: '2026-11-23T10:00:00Z', line: '+74950000000', callerName: 'Анна' }),
    fact(T.ringing, { occurredAt: '2026-11-23T10:00:01Z', extension: '101' }),
    fact(T.answered, { occurredAt: '2026-11-23T10:00:12Z', extension: '102' }),
    fact(T.ended, {
      occurredAt: '2026-11-23T10:01:12Z',
      disposition: 'answered',
      durationSeconds: 72,
      hangupCause: '16',
    }),
    fact(T.recordingReady, {
      occurredAt: '2026-11-23T10:01:20Z',
      recordingUrl: 'https://api.example.com/rec/RE1.mp3',
    }),
  ];

  it('folds an answered inbound call: parties, who answered, wait and talk, recording', () => {
    const call = foldCall('CA1', answeredInbound);
    expect(call).toEqual({
      providerCallId: 'CA1',
      direction: 'inbound',
      fromNumber: '+79123456789',
      toNumber: '+74950000000',
      callerName: 'Анна',
      line: '+74950000000',
      extension: '102',
      startedAt: new Date('2026-11-23T10:00:00Z'),
      answeredAt: new Date('2026-11-23T10:00:12Z'),
      endedAt: new Date('2026-11-23T10:01:12Z'),
      waitSeconds: 12,
      talkSeconds: 60,
      timesEstimated: false,
      disposition: 'answered',
      hangupCause: '16',
      recordingUrl: 'https://api.example.com/rec/RE1.mp3',
      recordingId: null,
      completed: true,
    });
  });

  it('gives the same call log for every arrival order and with repeats', () => {
    const expected = foldCall('CA1', answeredInbound);
    for (const order of permutations(answeredInbound)) {
      expect(foldCall('CA1', order)).toEqual(expected);
      expect(foldCall('CA1', [...order, order[0], order[2]])).toEqual(expected);
    }
  });

  it('an inbound call nobody answered is missed (whatever term the PBX used), talk 0, wait until hang-up', () => {
    const call = foldCall('CA1', [
      fact(T.ended, { occurredAt: '2026-11-23T10:00:30Z', disposition: 'no-answer' }),
      fact(T.started, { occurredAt: '2026-11-23T10:00:00Z' }),
    ]);
    expect(call).toMatchObject({ disposition: 'missed', talkSeconds: 0, waitSeconds: 30, completed: true });
  });

  it('an outbound call nobody answered stays no-answer', () => {
    const call = foldCall('CA1', [
      fact(T.started, { occurredAt: '2026-11-23T10:00:00Z', direction: 'outbound' }),
      fact(T.ended, { occurredAt: '2026-11-23T10:00:20Z', direction: 'outbound' }),
    ]);
    expect(call.disposition).toBe('no-answer');
  });

  it('is in progress until the primary leg ends; a child leg ending does not end the call', () => {
    const parent = fact(T.started, { occurredAt: '2026-11-23T10:00:00Z' });
    const childEnd = fact(T.ended, {
      providerCallId: 'CA2',
      parentCallId: 'CA1',
      occurredAt: '2026-11-23T10:00:20Z',
      disposition: 'no-answer',
      extension: '101',
    });
    expect(foldCall('CA1', [parent, childEnd])).toMatchObject({ completed: false, disposition: null });
    const parentEnd = fact(T.ended, { occurredAt: '2026-11-23T10:00:40Z', disposition: 'missed' });
    expect(foldCall('CA1', [childEnd, parentEnd, parent])).toMatchObject({
      completed: true,
      disposition: 'missed',
      endedAt: new Date('2026-11-23T10:00:40Z'),
    });
  });

  it('any leg answering makes the call answered, and that leg names the manager', () => {
    const call = foldCall('CA1', [
      fact(T.started, { occurredAt: '2026-11-23T10:00:00Z' }),
      fact(T.answered, {
        providerCallId: 'CA3',
        parentCallId: 'CA1',
        occurredAt: '2026-11-23T10:00:05Z',
        extension: '103',
      }),
      fact(T.ended, { occurredAt: '2026-11-23T10:00:45Z', disposition: 'no-answer' }),
    ]);
    expect(call).toMatchObject({
      disposition: 'answered',
      extension: '103',
      waitSeconds: 5,
      talkSeconds: 40,
    });
  });

  it('the agents it rang decide: a parent leg the PBX picked up, whose agent did not answer, is missed', () => {
    // Twilio: the parent leg is answered by TwiML and always ends `completed`; only the <Dial> leg tells.
    const call = foldCall('CA1', [
      fact(T.ringing, { occurredAt: '2026-11-23T10:00:00Z' }),
      fact(T.started, { providerCallId: 'CA9', parentCallId: 'CA1', occurredAt: '2026-11-23T10:00:01Z' }),
      fact(T.ended, {
        providerCallId: 'CA9',
        parentCallId: 'CA1',
        occurredAt: '2026-11-23T10:00:21Z',
        disposition: 'no-answer',
        extension: '101',
      }),
      fact(T.ended, {
        occurredAt: '2026-11-23T10:00:26Z',
        disposition: 'answered',
        answeredAt: '2026-11-23T10:00:00Z',
        durationSeconds: 26,
        billSeconds: 26,
      }),
    ]);
    expect(call).toMatchObject({
      disposition: 'missed',
      answeredAt: null,
      talkSeconds: 0,
      waitSeconds: 26,
      completed: true,
    });
  });

  it('a CDR alone makes a complete call; bill seconds give the answer time', () => {
    const call = foldCall('1700000000.1', [
      fact(T.cdr, {
        provider: 'asterisk',
        providerCallId: '1700000000.1',
        startedAt: '2026-11-23T09:00:00Z',
        endedAt: '2026-11-23T09:02:00Z',
        disposition: 'answered',
        durationSeconds: 120,
        billSeconds: 100,
        extension: '201',
      }),
    ]);
    expect(call).toMatchObject({
      completed: true,
      disposition: 'answered',
      answeredAt: new Date('2026-11-23T09:00:20Z'),
      waitSeconds: 20,
      talkSeconds: 100,
      extension: '201',
    });
  });

  it('a CDR without an end time ends at start + duration', () => {
    const call = foldCall('z1', [
      fact(T.cdr, {
        providerCallId: 'z1',
        startedAt: '2026-11-23T09:00:00Z',
        disposition: 'busy',
        durationSeconds: 7,
      }),
    ]);
    expect(call).toMatchObject({
      endedAt: new Date('2026-11-23T09:00:07Z'),
      disposition: 'busy',
      waitSeconds: 7,
    });
  });

  it('the record outranks a live event about the disposition', () => {
    const call = foldCall('CA1', [
      fact(T.ended, { occurredAt: '2026-11-23T10:00:30Z', disposition: 'failed' }),
      fact(T.cdr, { startedAt: '2026-11-23T10:00:00Z', disposition: 'busy', durationSeconds: 30 }),
    ]);
    expect(call.disposition).toBe('busy');
  });

  it('orders equal timestamps by sequence, then by the natural order of facts', () => {
    const a = fact(T.ended, { occurredAt: '2026-11-23T10:00:00Z' });
    const b = fact(T.started, { occurredAt: '2026-11-23T10:00:00Z' });
    const c = fact(T.answered, { occurredAt: '2026-11-23T10:00:00Z', sequence: 1 });
    expect(orderFacts([a, b, c]).map((f) => f.type)).toEqual([T.answered, T.started, T.ended]);
  });

  it('groups legs by linked id, then parent, then own id', () => {
    expect(callKeyOf({ providerCallId: 'b', linkedId: 'a', parentCallId: 'p' })).toBe('a');
    expect(callKeyOf({ providerCallId: 'b', parentCallId: 'p' })).toBe('p');
    expect(callKeyOf({ providerCallId: 'b' })).toBe('b');
  });

  it('refuses an empty call', () => {
    expect(() => foldCall('x', [])).toThrow();
  });
  it('a recording that names the call alone (no direction, no parties) takes them from the other events', () => {
    const bare = (payload: Record<string, unknown>): CallFact => ({
      eventId: '00000000-0000-7000-8000-0000000009ff',
      type: T.recordingReady,
      payload: {
        provider: 'twilio',
        providerCallId: 'CA1',
        recordingUrl: 'https://api.example.com/rec/RE9.mp3',
        recordingId: 'RE9',
        ...payload,
      } as never,
    });
    const rec = bare({ occurredAt: '2026-11-23T09:59:00Z' }); // stamped before the call's own first event
    const withIt = [...answeredInbound.slice(0, 4), rec];
    const call = foldCall('CA1', withIt);
    expect(call).toMatchObject({
      direction: 'inbound',
      fromNumber: '+79123456789',
      toNumber: '+74950000000',
      recordingId: 'RE9',
      disposition: 'answered',
    });
    for (const order of permutations(withIt)) expect(foldCall('CA1', order)).toEqual(call);
    expect(foldCall('CA1', [rec])).toMatchObject({
      direction: 'inbound',
      fromNumber: '',
      toNumber: '',
      completed: false,
      recordingId: 'RE9',
    });
  });
});
