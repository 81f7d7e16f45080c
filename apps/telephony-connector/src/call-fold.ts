import {
  TELEPHONY_EVENT_TYPES,
  type CallDirection,
  type CallDisposition,
  type CallEventV1,
  type CallPayload,
  type CallRecordV1,
  type TelephonyEventType,
} from '@switchboard/contracts';

/** One received event of a call, as stored in its timeline. */
export interface CallFact {
  eventId: string;
  type: TelephonyEventType;
  /** recording.ready may name the call alone (no direction, no parties). */
  payload: CallPayload;
}

/** What a call log says, computed from all of its events. */
export interface CallState {
  providerCallId: string;
  direction: CallDirection;
  fromNumber: string;
  toNumber: string;
  callerName: string | null;
  line: string | null;
  extension: string | null;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  /** Null when the call's start or answer is not known (not zero: statistics skip it). */
  waitSeconds: number | null;
  /** Null when an answered call's talk time is not known. */
  talkSeconds: number | null;
  /**
   * startedAt/answeredAt (and the wait between them) were derived from the final message rather than seen:
   * answer = end - talk, start = answer when no start is known. A real event replaces them.
   */
  timesEstimated: boolean;
  /** Null while the call is in progress. */
  disposition: CallDisposition | null;
  hangupCause: string | null;
  recordingUrl: string | null;
  recordingId: string | null;
  completed: boolean;
}

/** The grouping key every leg of one conversation shares (Asterisk linkedid, Mango entry_id, Twilio parent). */
export const callKeyOf = (p: Pick<CallEventV1, 'linkedId' | 'parentCallId' | 'providerCallId'>): string =>
  p.linkedId ?? p.parentCallId ?? p.providerCallId;

const { started, ringing, answered, transferred, ended, recordingReady, cdr } = TELEPHONY_EVENT_TYPES;
/** Tie-break for equal timestamps: the order in which the facts of a call happen. */
const RANK: Record<TelephonyEventType, number> = {
  [started]: 0,
  [ringing]: 1,
  [answered]: 2,
  [transferred]: 3,
  [ended]: 4,
  [recordingReady]: 5,
  [cdr]: 6,
};

const ms = (iso: string | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);
const isRecord = (f: CallFact): f is CallFact & { payload: CallRecordV1 } => f.type === cdr;
const isFinal = (f: CallFact): boolean => f.type === ended || f.type === cdr;

/** When the fact happened: the event's own time, or a record's end (start + duration when no end). */
function factTime(f: CallFact): number {
  if (isRecord(f))
    return ms(f.payload.endedAt) ?? ms(f.payload.startedAt)! + f.payload.durationSeconds * 1000;
  return ms((f.payload as CallEventV1).occurredAt)!;
}

/** A deterministic order of the facts, whatever order they arrived in. */
export function orderFacts(facts: readonly CallFact[]): CallFact[] {
  return [...facts].sort(
    (a, b) =>
      factTime(a) - factTime(b) ||
      (a.payload.sequence ?? Number.MAX_SAFE_INTEGER) - (b.payload.sequence ?? Number.MAX_SAFE_INTEGER) ||
      RANK[a.type] - RANK[b.type] ||
      (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0),
  );
}

const min = (xs: Array<number | undefined>): number | undefined => {
  const v = xs.filter((x): x is number => x !== undefined && !Number.isNaN(x));
  return v.length ? Math.min(...v) : undefined;
};
const max = (xs: Array<number | undefined>): number | undefined => {
  const v = xs.filter((x): x is number => x !== undefined && !Number.isNaN(x));
  return v.length ? Math.max(...v) : undefined;
};
const lastOf = <T>(xs: T[], pick: (x: T) => string | undefined): string | null => {
  for (let i = xs.length - 1; i >= 0; i--) {
    const v = pick(xs[i]);
    if (v) return v;
  }
  return null;
};
const firstOf = <T>(xs: T[], pick: (x: T) => string | undefined): string | null =>
  lastOf([...xs].reverse(), pick);
const seconds = (fromMs: number, toMs: number): number => Math.max(0, Math.round((toMs - fromMs) / 1000));

/**
 * Folds every event of one call into its call log. A pure function of the set of facts (they are ordered
 * first), so shuffled and repeated deliveries converge on the same call log.
 *
 * The primary leg is the one whose id is the call key (the first leg of Asterisk's linkedid group, Twilio's
 * parent call); its facts decide the parties and when the call is over, while any leg can answer it.
 */
export function foldCall(callKey: string, facts: readonly CallFact[]): CallState {
  if (facts.length === 0) throw new Error('a call needs at least one event');
  const all = orderFacts(facts);
  const primaryFacts = all.filter((f) => f.payload.providerCallId === callKey);
  const primary = primaryFacts.length ? primaryFacts : all;
  const records = all.filter(isRecord);
  const head = primary[0].payload;

  // A recording may name the call alone: the direction is the first one a fact of the call states (the
  // primary leg's record, then its earliest fact); a call known only from a recording is logged as inbound.
  const direction: CallDirection =
    records.find((r) => r.payload.providerCallId === head.providerCallId)?.payload.direction ??
    primary.find((f) => f.payload.direction)?.payload.direction ??
    all.find((f) => f.payload.direction)?.payload.direction ??
    'inbound';

  // Seen or stated by the provider (a start event, or a message's own startedAt such as a CDR's or Zadarma's
  // call_start), never guessed.
  const observedStart = min(
    all.map((f) =>
      f.type === started || f.type === ringing
        ? (ms(f.payload.startedAt) ?? ms((f.payload as CallEventV1).occurredAt))
        : ms(f.payload.startedAt),
    ),
  );

  const finals = primary.filter(isFinal);
  const completed = finals.length > 0;

  // When the primary leg has other legs (the agents it rang), those legs say whether a person answered: the
  // primary leg is "answered" as soon as the PBX or an IVR picks it up (Twilio's parent leg always ends
  // `completed`), which is not the caller being served.
  const otherLegs = primaryFacts.length
    ? all.filter((f) => f.payload.providerCallId !== head.providerCallId)
    : [];
  const legsDecide = otherLegs.some((f) => f.type === answered || isFinal(f));
  const answerFacts = legsDecide ? otherLegs : all;
  let answeredAt = min(
    answerFacts.map((f) =>
      f.type === answered
        ? (ms(f.payload.answeredAt) ?? ms((f.payload as CallEventV1).occurredAt))
        : ms(f.payload.answeredAt),
    ),
  );
  const billSeconds = max(answerFacts.map((f) => f.payload.billSeconds));
  // The talk time a final message states, to place an answer nobody saw. billSeconds is always talk (answer
  // to end). An `ended` event's durationSeconds stands in for it only when the event names no start of its
  // own (a generic ended event with the length of the connected call); with a startedAt (Zadarma call_start +
  // duration) it is the whole call from that start. A seen answer outranks it (talk = end - answer).
  const statedTalk =
    billSeconds ??
    max(
      answerFacts.map((f) =>
        f.type === ended && !f.payload.startedAt ? (f.payload as CallEventV1).durationSeconds : undefined,
      ),
    );
  const anyLegAnswered =
    answeredAt !== undefined ||
    answerFacts.some((f) => isFinal(f) && (f.payload as CallEventV1).disposition === 'answered') ||
    (billSeconds ?? 0) > 0;

  let answerEstimated = false;
  let endedAt: number | undefined;
  let disposition: CallDisposition | null = null;
  if (completed) {
    endedAt = max(
      finals.map((f) =>
        isRecord(f)
          ? (ms(f.payload.endedAt) ?? ms(f.payload.startedAt)! + f.payload.durationSeconds * 1000)
          : (ms(f.payload.endedAt) ?? ms((f.payload as CallEventV1).occurredAt)),
      ),
    );
    // A record is the provider's own summary: it outranks a live event's guess.
    const last = [...finals.filter(isRecord), ...finals.filter((f) => !isRecord(f))].find(
      (f) => (f.payload as CallEventV1).disposition,
    );
    const stated = (last?.payload as CallEventV1 | undefined)?.disposition;
    disposition = anyLegAnswered
      ? 'answered'
      : stated && stated !== 'answered'
        ? stated
        : direction === 'inbound'
          ? 'missed'
          : 'no-answer';
    // Nobody answered an inbound call: for the CRM that is a missed call, whichever term the PBX used.
    if (direction === 'inbound' && disposition === 'no-answer') disposition = 'missed';
    if (
      disposition === 'answered' &&
      answeredAt === undefined &&
      endedAt !== undefined &&
      statedTalk !== undefined
    ) {
      // Not before a start that was seen (a talk figure rounded up, or billed in whole minutes).
      answeredAt = Math.max(endedAt - statedTalk * 1000, observedStart ?? -Infinity);
      answerEstimated = true;
    }
    // A late "answered" webhook (Zadarma stamps it on arrival) cannot be after the end.
    if (answeredAt !== undefined && endedAt !== undefined && answeredAt > endedAt) answeredAt = endedAt;
  }

  const answeredFacts = answerFacts.filter((f) => f.type === answered);
  const extension =
    firstOf(answeredFacts, (f) => f.payload.extension) ??
    firstOf(
      answerFacts.filter((f) => isFinal(f) && (f.payload as CallEventV1).disposition === 'answered'),
      (f) => f.payload.extension,
    ) ??
    lastOf(all, (f) => f.payload.extension);

  const talkSeconds =
    disposition === null
      ? null
      : disposition !== 'answered'
        ? 0
        : (billSeconds ??
          (answeredAt !== undefined && endedAt !== undefined ? seconds(answeredAt, endedAt) : null));
  const waitEnd = answeredAt ?? (disposition !== null && disposition !== 'answered' ? endedAt : undefined);
  // Without a known start the wait is unknown, not zero.
  const waitSeconds =
    observedStart !== undefined && waitEnd !== undefined ? seconds(observedStart, waitEnd) : null;
  // No start seen: the call began no later than its answer (or its first fact); shown, but marked estimated.
  const startedAt = observedStart ?? min([answeredAt, factTime(all[0])])!;
  const timesEstimated = answerEstimated || observedStart === undefined;

  const recordings = all.filter((f) => f.type === recordingReady);
  return {
    providerCallId: head.providerCallId,
    direction,
    fromNumber: firstOf(primary, (f) => f.payload.from) ?? '',
    toNumber: firstOf(primary, (f) => f.payload.to) ?? firstOf(all, (f) => f.payload.to) ?? '',
    callerName: firstOf(primary, (f) => f.payload.callerName) ?? firstOf(all, (f) => f.payload.callerName),
    line: firstOf(primary, (f) => f.payload.line) ?? firstOf(all, (f) => f.payload.line),
    extension,
    startedAt: new Date(startedAt),
    answeredAt: answeredAt !== undefined ? new Date(answeredAt) : null,
    endedAt: endedAt !== undefined ? new Date(endedAt) : null,
    waitSeconds,
    talkSeconds,
    timesEstimated,
    disposition,
    hangupCause: lastOf(finals, (f) => f.payload.hangupCause) ?? lastOf(all, (f) => f.payload.hangupCause),
    recordingUrl:
      lastOf(recordings, (f) => f.payload.recordingUrl) ?? lastOf(all, (f) => f.payload.recordingUrl),
    recordingId:
      lastOf(recordings, (f) => f.payload.recordingId) ?? lastOf(all, (f) => f.payload.recordingId),
    completed,
  };
}
