// The telephony bench's traffic: bodies for POST /v1/telephony/events (CallEventV1 + `type`), about four events
// per call, as a PBX would send them while many calls are under way at once.
//
// Per call: started, ringing (with the extension), answered (with the extension) for answered calls, ended
// (answered, missed/no-answer, with durationSeconds) and, for about half of the answered calls (a third of all),
// recording.ready. Calls are interleaved (`inProgress` calls at once, the next event from a random one), some
// arrive out of order (ended before answered or ringing), call ids are distinct across the run. About 20 % of
// callers come from a small pool of numbers (the first KNOWN_CONTACTS are CRM contacts, the others become leads
// on their first inbound call): contact/lead matching and call-back tasks (open on a miss, closed by a later
// answered call). The rest are new numbers (an inbound one becomes a lead) or withheld.

export const PROVIDER = 'generic';
export const EXTENSIONS = ['101', '102', '103', '104', '105'];
export const LINES = ['+74950000001', '+74950000002', '+74950000003'];
/** Repeat callers; the first KNOWN_CONTACTS are seeded as contacts with a phone identity. */
export const POOL = Array.from({ length: 30 }, (_, i) => `+7903555${String(i).padStart(4, '0')}`);
export const KNOWN_CONTACTS = 10;

const SHARES = {
  outbound: 0.15,
  repeatCaller: 0.2,
  withheld: 0.05, // of inbound calls
  answeredInbound: 0.65,
  answeredOutbound: 0.6,
  recordingOfAnswered: 0.5,
  outOfOrder: 0.15,
};

/** `+79035550007` as people type it: `8 (903) 555-00-07`; normalization must make both the same phone. */
const national = (e164) =>
  `8 (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8, 10)}-${e164.slice(10)}`;

/**
 * A stream of event bodies (JSON strings). `reset(prefix)` drops the calls in progress and starts counting
 * anew (e.g. after a warm-up); phone numbers stay unique across resets. `inProgress`: how many calls are under
 * way at once (the more, the further apart one call's events; each call's events lock the same keys in the
 * connector). `repeatCallers`: the share of calls from the small pool (whose phone keys are locked too).
 */
export function createCallMix({
  prefix = 'C',
  random = Math.random,
  inProgress = 64,
  repeatCallers = SHARES.repeatCaller,
} = {}) {
  let tag = prefix;
  let calls = 0;
  let freshNumbers = 0;
  let active = [];
  let stats;
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  const resetStats = () => {
    stats = {
      calls: 0,
      events: 0,
      byType: {},
      inbound: 0,
      outbound: 0,
      answered: 0,
      notAnswered: 0,
      repeatCallers: 0,
      withheld: 0,
      outOfOrder: 0,
    };
  };
  resetStats();

  function newCall() {
    calls += 1;
    stats.calls += 1;
    const id = `${tag}-${String(calls).padStart(7, '0')}`;
    const outbound = random() < SHARES.outbound;
    const extension = pick(EXTENSIONS);
    const line = pick(LINES);
    let phone;
    if (random() < repeatCallers) {
      stats.repeatCallers += 1;
      phone = random() < 0.5 ? pick(POOL) : national(pick(POOL));
    } else if (!outbound && random() < SHARES.withheld) {
      stats.withheld += 1;
      phone = '';
    } else {
      freshNumbers += 1;
      phone = `+7926${String(freshNumbers).padStart(7, '0')}`;
    }
    stats[outbound ? 'outbound' : 'inbound'] += 1;
    const answered = random() < (outbound ? SHARES.answeredOutbound : SHARES.answeredInbound);
    stats[answered ? 'answered' : 'notAnswered'] += 1;

    const t0 = Date.now() - 600_000;
    const at = (s) => new Date(t0 + s * 1000).toISOString();
    const base = outbound
      ? { provider: PROVIDER, providerCallId: id, direction: 'outbound', from: line, to: phone, extension }
      : { provider: PROVIDER, providerCallId: id, direction: 'inbound', from: phone, to: line };
    const ring = between(2, 25);
    const talk = answered ? between(5, 300) : 0;
    const events = [
      {
        type: 'started',
        ...base,
        occurredAt: at(0),
        line,
        ...(!outbound && phone && random() < 0.3 ? { callerName: 'Bench Caller' } : {}),
      },
      { type: 'ringing', ...base, occurredAt: at(1), extension },
    ];
    if (answered) events.push({ type: 'answered', ...base, occurredAt: at(ring), extension });
    events.push({
      type: 'ended',
      ...base,
      occurredAt: at(ring + talk),
      disposition: answered ? 'answered' : outbound || random() < 0.7 ? 'no-answer' : 'missed',
      durationSeconds: ring + talk,
      ...(answered ? { billSeconds: talk } : {}),
    });
    if (answered && random() < SHARES.recordingOfAnswered) {
      events.push({
        type: 'recording.ready',
        ...base,
        occurredAt: at(ring + talk + 3),
        recordingUrl: `https://rec.bench.example/${id}.mp3`,
      });
    }
    if (random() < SHARES.outOfOrder) {
      // `ended` overtakes the event before it (answered, or ringing for an unanswered call).
      stats.outOfOrder += 1;
      const i = events.findIndex((e) => e.type === 'ended');
      [events[i - 1], events[i]] = [events[i], events[i - 1]];
    }
    return { events, next: 0 };
  }

  function next() {
    while (active.length < inProgress) active.push(newCall());
    const i = Math.floor(random() * active.length);
    const call = active[i];
    const event = call.events[call.next++];
    if (call.next === call.events.length) {
      active[i] = active[active.length - 1];
      active.pop();
    }
    stats.events += 1;
    stats.byType[event.type] = (stats.byType[event.type] ?? 0) + 1;
    return JSON.stringify(event);
  }

  return {
    next,
    get stats() {
      return stats;
    },
    /** Abandon the calls in progress (their remaining events are never sent) and count from zero. */
    reset(newPrefix) {
      tag = newPrefix;
      active = [];
      resetStats();
    },
  };
}
