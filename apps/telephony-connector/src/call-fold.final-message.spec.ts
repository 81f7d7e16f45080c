import { TELEPHONY_EVENT_TYPES as T, type TelephonyEventType } from '@switchboard/contracts';
import { foldCall, type CallFact, type CallState } from './call-fold';

/**
 * A call known only from its provider's final message (issue 18), per provider: the facts below have the
 * shape each gateway adapter gives them (see the adapters' comments for which duration means what). The
 * final message alone, the whole sequence and the sequence shuffled must agree on the outcome and the talk
 * seconds; start, answer and wait are either the same or marked `timesEstimated`.
 */

let n = 0;
const at = (base: string, plusSeconds: number): string =>
  new Date(Date.parse(base) + plusSeconds * 1000).toISOString();

function fact(type: TelephonyEventType, payload: Record<string, unknown>): CallFact {
  n += 1;
  return {
    eventId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    type,
    payload: payload as never,
  };
}

interface Case {
  name: string;
  callKey: string;
  /** Every message of the call, in the order the provider sends them. */
  sequence: CallFact[];
  /** The provider's final message(s): what is left when nothing else was subscribed or arrived. */
  final: CallFact[];
  disposition: CallState['disposition'];
  talkSeconds: number | null;
  /** What the final message alone says when it cannot say more (documented per provider). */
  finalAloneTalkSeconds?: number | null;
  /** The times the whole sequence gives (observed). */
  observed: { startedAt: string; answeredAt: string | null; waitSeconds: number | null };
}

const t0 = '2026-11-23T10:00:00.000Z';

const twilio = (p: Record<string, unknown>) => ({
  provider: 'twilio',
  providerCallId: 'CA1',
  direction: 'outbound',
  from: '+74950000000',
  to: '+79123456789',
  line: '+74950000000',
  ...p,
});
const twilioAnsweredOutbound = [
  fact(T.started, twilio({ occurredAt: t0, startedAt: t0 })),
  fact(T.ringing, twilio({ occurredAt: at(t0, 2) })),
  fact(T.answered, twilio({ occurredAt: at(t0, 11), answeredAt: at(t0, 11) })),
  fact(
    T.ended,
    twilio({
      occurredAt: at(t0, 60),
      endedAt: at(t0, 60),
      disposition: 'answered',
      durationSeconds: 49,
      billSeconds: 49,
    }),
  ),
];

const twilioIn = (sid: string, p: Record<string, unknown>) => ({
  provider: 'twilio',
  providerCallId: sid,
  direction: 'inbound',
  from: '+79123456789',
  to: '+74950000000',
  line: '+74950000000',
  ...p,
});
const twilioMissed = [
  fact(T.ringing, twilioIn('CA2', { occurredAt: t0 })),
  fact(
    T.ended,
    twilioIn('CA2', {
      occurredAt: at(t0, 25),
      endedAt: at(t0, 25),
      disposition: 'missed',
      durationSeconds: 0,
    }),
  ),
];
// Parent leg CA3 (Twilio answers it at once and runs the TwiML) dials agent leg CA4.
const twilioDialled = [
  fact(T.ringing, twilioIn('CA3', { occurredAt: t0 })),
  fact(T.answered, twilioIn('CA3', { occurredAt: at(t0, 0), answeredAt: at(t0, 0) })),
  fact(T.ringing, twilioIn('CA4', { parentCallId: 'CA3', direction: 'outbound', occurredAt: at(t0, 1) })),
  fact(
    T.answered,
    twilioIn('CA4', {
      parentCallId: 'CA3',
      direction: 'outbound',
      occurredAt: at(t0, 8),
      answeredAt: at(t0, 8),
    }),
  ),
  fact(
    T.ended,
    twilioIn('CA4', {
      parentCallId: 'CA3',
      direction: 'outbound',
      occurredAt: at(t0, 50),
      endedAt: at(t0, 50),
      disposition: 'answered',
      durationSeconds: 42,
      billSeconds: 42,
    }),
  ),
  fact(
    T.ended,
    twilioIn('CA3', {
      occurredAt: at(t0, 51),
      endedAt: at(t0, 51),
      disposition: 'answered',
      durationSeconds: 51,
      billSeconds: 51,
    }),
  ),
];

const zadarma = (p: Record<string, unknown>) => ({
  provider: 'zadarma',
  providerCallId: 'in_1',
  direction: 'inbound',
  from: '+79123456789',
  to: '+74950000000',
  line: '+74950000000',
  startedAt: t0, // every NOTIFY_* carries call_start
  ...p,
});
const zadarmaEnd = (disposition: string, duration: number) => [
  fact(
    T.ended,
    zadarma({
      occurredAt: at(t0, duration),
      endedAt: at(t0, duration),
      disposition,
      durationSeconds: duration,
      extension: '101',
    }),
  ),
  fact(T.cdr, zadarma({ disposition, durationSeconds: duration, extension: '101' })),
];
const zadarmaAnswered = [
  fact(T.started, zadarma({ occurredAt: t0 })),
  fact(T.ringing, zadarma({ occurredAt: at(t0, 3), extension: '101' })),
  fact(T.answered, zadarma({ occurredAt: at(t0, 9), answeredAt: at(t0, 9), extension: '101' })),
  ...zadarmaEnd('answered', 70),
];
const zadarmaMissed = [
  fact(T.started, zadarma({ providerCallId: 'in_2', occurredAt: t0 })),
  ...zadarmaEnd('missed', 20).map((f) => ({ ...f, payload: { ...f.payload, providerCallId: 'in_2' } })),
];

const mangoLeg = (p: Record<string, unknown>) => ({
  provider: 'mango',
  providerCallId: 'L1',
  linkedId: 'E1',
  direction: 'inbound',
  from: '79123456789',
  to: '74950000000',
  line: '74950000000',
  ...p,
});
const mangoSummary = (p: Record<string, unknown>) => ({
  provider: 'mango',
  providerCallId: 'E1',
  linkedId: 'E1',
  direction: 'inbound',
  from: '79123456789',
  to: '74950000000',
  line: '74950000000',
  startedAt: t0, // create_time
  ...p,
});
const mangoAnswered = [
  fact(T.started, mangoLeg({ sequence: 1, occurredAt: t0, startedAt: t0 })),
  fact(T.ringing, mangoLeg({ sequence: 2, occurredAt: at(t0, 5), extension: '101' })),
  fact(
    T.answered,
    mangoLeg({ sequence: 3, occurredAt: at(t0, 12), answeredAt: at(t0, 12), extension: '101' }),
  ),
  fact(T.ended, mangoLeg({ sequence: 4, occurredAt: at(t0, 80), endedAt: at(t0, 80), extension: '101' })),
  fact(
    T.cdr,
    mangoSummary({
      answeredAt: at(t0, 12), // talk_time
      endedAt: at(t0, 80), // end_time
      disposition: 'answered',
      durationSeconds: 80,
      billSeconds: 68,
      extension: '101',
    }),
  ),
];
// Hung up in the IVR: the summary's `to` is empty, the line is the called party.
const mangoIvrHangup = [
  fact(
    T.started,
    mangoLeg({ providerCallId: 'L2', linkedId: 'E2', sequence: 1, occurredAt: t0, startedAt: t0 }),
  ),
  fact(
    T.ended,
    mangoLeg({
      providerCallId: 'L2',
      linkedId: 'E2',
      sequence: 2,
      occurredAt: at(t0, 15),
      endedAt: at(t0, 15),
    }),
  ),
  fact(
    T.cdr,
    mangoSummary({
      providerCallId: 'E2',
      linkedId: 'E2',
      endedAt: at(t0, 15),
      disposition: 'missed',
      durationSeconds: 15,
      billSeconds: 0,
    }),
  ),
];

const asterisk = (p: Record<string, unknown>) => ({
  provider: 'asterisk',
  providerCallId: '1711.1',
  linkedId: '1711.1',
  direction: 'inbound',
  from: '+79123456789',
  to: '101',
  startedAt: t0,
  ...p,
});
const asteriskAnswered = [
  fact(
    T.cdr,
    asterisk({
      answeredAt: at(t0, 10),
      endedAt: at(t0, 70),
      durationSeconds: 70,
      billSeconds: 60,
      disposition: 'answered',
      extension: '101',
    }),
  ),
  // Asterisk 12+: a second CDR for the same channel (another party B), same linkedid.
  fact(
    T.cdr,
    asterisk({
      providerCallId: '1711.2',
      answeredAt: at(t0, 10),
      endedAt: at(t0, 70),
      durationSeconds: 70,
      billSeconds: 60,
      disposition: 'answered',
      extension: '101',
    }),
  ),
];

const generic = (p: Record<string, unknown>) => ({
  provider: 'pbx',
  providerCallId: 'g1',
  direction: 'inbound',
  from: '+79123456789',
  to: '+74950000000',
  ...p,
});
const genericEnded = [
  fact(T.started, generic({ occurredAt: t0 })),
  fact(T.answered, generic({ occurredAt: at(t0, 6), extension: '101' })),
  fact(
    T.ended,
    generic({ occurredAt: at(t0, 40), endedAt: at(t0, 40), disposition: 'answered', durationSeconds: 34 }),
  ),
];
const genericCdr = [
  fact(T.started, generic({ providerCallId: 'g2', occurredAt: t0 })),
  fact(T.answered, generic({ providerCallId: 'g2', occurredAt: at(t0, 6), extension: '101' })),
  fact(
    T.cdr,
    generic({
      providerCallId: 'g2',
      startedAt: t0,
      endedAt: at(t0, 40),
      disposition: 'answered',
      durationSeconds: 40,
      billSeconds: 34,
    }),
  ),
];

const finals = (facts: CallFact[]) => facts.filter((f) => f.type === T.ended || f.type === T.cdr);

const CASES: Case[] = [
  {
    name: 'twilio: completed outbound call (CallDuration = talk)',
    callKey: 'CA1',
    sequence: twilioAnsweredOutbound,
    final: finals(twilioAnsweredOutbound),
    disposition: 'answered',
    talkSeconds: 49,
    observed: { startedAt: t0, answeredAt: at(t0, 11), waitSeconds: 11 },
  },
  {
    name: 'twilio: no-answer inbound call',
    callKey: 'CA2',
    sequence: twilioMissed,
    final: finals(twilioMissed),
    disposition: 'missed',
    talkSeconds: 0,
    observed: { startedAt: t0, answeredAt: null, waitSeconds: 25 },
  },
  {
    name: 'twilio: inbound call dialled to an agent leg (the final callbacks of both legs)',
    callKey: 'CA3',
    sequence: twilioDialled,
    final: finals(twilioDialled),
    disposition: 'answered',
    talkSeconds: 42,
    observed: { startedAt: t0, answeredAt: at(t0, 8), waitSeconds: 8 },
  },
  {
    // NOTIFY_END's duration runs from call_start, ringing included (an unanswered call has one too), so it
    // does not say how long they talked: alone it leaves answer, wait and talk unknown (null), never guessed.
    name: 'zadarma: NOTIFY_END of an answered call (duration = whole call from call_start)',
    callKey: 'in_1',
    sequence: zadarmaAnswered,
    final: finals(zadarmaAnswered),
    disposition: 'answered',
    talkSeconds: 61,
    finalAloneTalkSeconds: null,
    observed: { startedAt: t0, answeredAt: at(t0, 9), waitSeconds: 9 },
  },
  {
    name: 'zadarma: NOTIFY_END of a missed call',
    callKey: 'in_2',
    sequence: zadarmaMissed,
    final: finals(zadarmaMissed),
    disposition: 'missed',
    talkSeconds: 0,
    observed: { startedAt: t0, answeredAt: null, waitSeconds: 20 },
  },
  {
    name: 'mango: events/summary of an answered call (create/talk/end times)',
    callKey: 'E1',
    sequence: mangoAnswered,
    final: mangoAnswered.filter((f) => f.type === T.cdr),
    disposition: 'answered',
    talkSeconds: 68,
    observed: { startedAt: t0, answeredAt: at(t0, 12), waitSeconds: 12 },
  },
  {
    name: 'mango: events/summary of a call hung up in the IVR (empty `to`)',
    callKey: 'E2',
    sequence: mangoIvrHangup,
    final: mangoIvrHangup.filter((f) => f.type === T.cdr),
    disposition: 'missed',
    talkSeconds: 0,
    observed: { startedAt: t0, answeredAt: null, waitSeconds: 15 },
  },
  {
    name: 'asterisk: the CDRs of an answered call (billsec = talk)',
    callKey: '1711.1',
    sequence: asteriskAnswered,
    final: asteriskAnswered.slice(0, 1),
    disposition: 'answered',
    talkSeconds: 60,
    observed: { startedAt: t0, answeredAt: at(t0, 10), waitSeconds: 10 },
  },
  {
    name: 'generic: ended with durationSeconds and no start of its own (= talk)',
    callKey: 'g1',
    sequence: genericEnded,
    final: finals(genericEnded),
    disposition: 'answered',
    talkSeconds: 34,
    observed: { startedAt: t0, answeredAt: at(t0, 6), waitSeconds: 6 },
  },
  {
    name: 'generic: a CDR with billSeconds and no answer time',
    callKey: 'g2',
    sequence: genericCdr,
    final: finals(genericCdr),
    disposition: 'answered',
    talkSeconds: 34,
    observed: { startedAt: t0, answeredAt: at(t0, 6), waitSeconds: 6 },
  },
];

/** A fixed set of reorderings: reversed, rotated, and finals first. */
function shuffles(xs: CallFact[]): CallFact[][] {
  const rotated = xs.map((_, i) => [...xs.slice(i), ...xs.slice(0, i)]);
  const finalsFirst = [...finals(xs), ...xs.filter((f) => !finals(xs).includes(f))];
  return [[...xs].reverse(), ...rotated, finalsFirst, [...finalsFirst].reverse()];
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

describe('foldCall: a call known only from its final message (per provider)', () => {
  describe.each(CASES)('$name', (c) => {
    const whole = foldCall(c.callKey, c.sequence);

    it('the whole sequence in order: outcome, talk and the observed times, not estimated', () => {
      expect(whole).toMatchObject({
        disposition: c.disposition,
        talkSeconds: c.talkSeconds,
        completed: true,
      });
      expect({
        startedAt: iso(whole.startedAt),
        answeredAt: iso(whole.answeredAt),
        waitSeconds: whole.waitSeconds,
      }).toEqual(c.observed);
      expect(whole.timesEstimated).toBe(false);
    });

    it('shuffled: the same call log', () => {
      for (const order of shuffles(c.sequence)) expect(foldCall(c.callKey, order)).toEqual(whole);
    });

    it('the final message alone: the same outcome and talk; start, answer and wait equal or marked estimated', () => {
      const alone = foldCall(c.callKey, c.final);
      expect(alone.disposition).toBe(c.disposition);
      expect(alone.completed).toBe(true);
      expect(alone.talkSeconds).toBe(
        c.finalAloneTalkSeconds === undefined ? c.talkSeconds : c.finalAloneTalkSeconds,
      );
      expect(alone.endedAt).toEqual(whole.endedAt);
      for (const key of ['startedAt', 'answeredAt', 'waitSeconds'] as const) {
        const same = JSON.stringify(alone[key]) === JSON.stringify(whole[key]);
        // An unknown value (null) is not a wrong one; a differing known value must be marked estimated.
        const acceptable = same || alone[key] === null || alone.timesEstimated === true;
        expect({ [key]: alone[key], acceptable }).toEqual({ [key]: alone[key], acceptable: true });
      }
      // Unknown is never written as zero.
      expect(alone.waitSeconds !== 0 || whole.waitSeconds === 0).toBe(true);
    });

    it('the earlier events arriving after the final one replace every estimate', () => {
      const late = foldCall(c.callKey, [...c.final, ...c.sequence.filter((f) => !c.final.includes(f))]);
      expect(late).toEqual(whole);
      expect(late.timesEstimated).toBe(false);
    });
  });

  it('twilio completed alone: answer = end - CallDuration, start = answer, wait unknown, marked estimated', () => {
    const alone = foldCall('CA1', finals(twilioAnsweredOutbound));
    expect(alone).toMatchObject({
      startedAt: new Date(at(t0, 11)),
      answeredAt: new Date(at(t0, 11)),
      endedAt: new Date(at(t0, 60)),
      waitSeconds: null,
      talkSeconds: 49,
      timesEstimated: true,
    });
  });

  it('a CDR with billSeconds alone: its own start is kept, the answer derived, the wait marked estimated', () => {
    const alone = foldCall('g2', finals(genericCdr));
    expect(alone).toMatchObject({
      startedAt: new Date(t0),
      answeredAt: new Date(at(t0, 6)),
      waitSeconds: 6,
      talkSeconds: 34,
      timesEstimated: true,
    });
  });

  it('a missed call known from its final callback alone: wait unknown (null), not zero', () => {
    const alone = foldCall('CA2', finals(twilioMissed));
    expect(alone).toMatchObject({
      disposition: 'missed',
      waitSeconds: null,
      talkSeconds: 0,
      timesEstimated: true,
    });
  });

  it('bitrix24: ONEXTERNALCALLSTART alone is a call in progress with its start observed', () => {
    const call = foldCall('b1', [
      fact(T.started, {
        provider: 'bitrix24',
        providerCallId: 'b1',
        direction: 'outbound',
        from: '101',
        to: '+79123456789',
        occurredAt: t0,
      }),
    ]);
    expect(call).toMatchObject({
      completed: false,
      disposition: null,
      startedAt: new Date(t0),
      waitSeconds: null,
      talkSeconds: null,
      timesEstimated: false,
    });
  });
});
