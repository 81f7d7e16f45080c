import {
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { composeDecorators } from '../decorators';

/**
 * Event types of the telephony capability. Registered in registry.ts by its owner; kept here so adapters
 * and connectors share one spelling. The six call events share `CallEventV1`; `cdr` carries `CallRecordV1`.
 */
export const TELEPHONY_EVENT_TYPES = {
  started: 'telephony.call.started',
  ringing: 'telephony.call.ringing',
  answered: 'telephony.call.answered',
  transferred: 'telephony.call.transferred',
  ended: 'telephony.call.ended',
  recordingReady: 'telephony.call.recording.ready',
  cdr: 'telephony.call.completed',
} as const;
export type TelephonyEventType = (typeof TELEPHONY_EVENT_TYPES)[keyof typeof TELEPHONY_EVENT_TYPES];
export type CallEventType = Exclude<TelephonyEventType, typeof TELEPHONY_EVENT_TYPES.cdr>;
export const CALL_EVENT_TYPES: readonly CallEventType[] = [
  TELEPHONY_EVENT_TYPES.started,
  TELEPHONY_EVENT_TYPES.ringing,
  TELEPHONY_EVENT_TYPES.answered,
  TELEPHONY_EVENT_TYPES.transferred,
  TELEPHONY_EVENT_TYPES.ended,
  TELEPHONY_EVENT_TYPES.recordingReady,
];

export const CALL_DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

/**
 * `missed`: an inbound call nobody answered; `no-answer`: the called party of an outbound/internal call
 * did not answer. Kept apart because only a missed inbound call asks for a call-back task in the CRM.
 */
export const CALL_DISPOSITIONS = [
  'answered',
  'missed',
  'busy',
  'failed',
  'no-answer',
  'cancelled',
  'voicemail',
] as const;
export type CallDisposition = (typeof CALL_DISPOSITIONS)[number];

/** ISO 8601 in UTC (`Z`): adapters convert provider-local times, so consumers never guess a zone. */
function IsUtcTimestamp(): PropertyDecorator {
  return composeDecorators(
    IsISO8601({ strict: true, strictSeparator: true }),
    Matches(/^(19|20|21)\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/, {
      message: '$property must be a UTC date and time (ending in Z) in years 1900-2199',
    }),
  );
}

function IsId(max = 200): PropertyDecorator {
  return composeDecorators(IsString(), IsNotEmpty(), MaxLength(max));
}

function IsOptionalText(max = 200): PropertyDecorator {
  return composeDecorators(IsOptional(), IsString(), MaxLength(max));
}

function IsSeconds(): PropertyDecorator {
  return composeDecorators(IsInt(), Min(0), Max(10_000_000));
}

/** Fields every telephony payload may carry: the provider's identity of the call, its line, times, recording. */
abstract class CallFields {
  /** The adapter that produced it (`twilio`, `asterisk`, ...); scopes `providerCallId`. */
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,39}$/)
  provider: string;

  /** The provider's id of this call leg (Twilio CallSid, Asterisk uniqueid, Mango call_id, ...). */
  @IsId()
  providerCallId: string;

  /** Groups the legs of one conversation (Asterisk linkedid, Mango entry_id). */
  @IsOptional()
  @IsId()
  linkedId?: string;

  /** The leg that spawned this one (Twilio ParentCallSid). */
  @IsOptional()
  @IsId()
  parentCallId?: string;

  /** The provider's ordering of events/records of one call; events can arrive out of order. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  sequence?: number;

  /** Our number (DID / trunk line) the call came in on or went out through. */
  @IsOptionalText(100)
  line?: string;

  /** The internal extension (employee) involved. */
  @IsOptionalText(100)
  extension?: string;

  @IsOptionalText(200)
  callerName?: string;

  @IsOptional()
  @IsUtcTimestamp()
  answeredAt?: string;

  /** Talk time: from answer to hang-up (Asterisk billsec, Twilio CallDuration, Mango end_time - talk_time). */
  @IsOptional()
  @IsSeconds()
  billSeconds?: number;

  /** Provider's own cause (Q.931 code, SIP status, Asterisk CONGESTION, ...), kept as text. */
  @IsOptionalText(200)
  hangupCause?: string;

  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  @MaxLength(2000)
  recordingUrl?: string;

  /** The provider's recording id/file when it is fetched through the provider (Zadarma, FreePBX file). */
  @IsOptionalText(500)
  recordingId?: string;
}

/** Fields of a call fact that knows who called whom. */
abstract class CallBase extends CallFields {
  @IsIn(CALL_DIRECTIONS)
  direction: CallDirection;

  /** Caller number as the provider gave it (normalization is the connector's); '' when withheld. */
  @IsString()
  @MaxLength(200)
  from: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  to: string;
}

/**
 * `telephony.call.*` v1: one shape for started, ringing, answered, transferred, ended (and, with the parties
 * optional, recording.ready: CallRecordingV1); the event type says which fact it is, so a consumer needs one
 * parser.
 */
export class CallEventV1 extends CallBase {
  /** When the provider says the fact happened (receipt time when the provider sends none). */
  @IsUtcTimestamp()
  occurredAt: string;

  @IsOptional()
  @IsUtcTimestamp()
  startedAt?: string;

  @IsOptional()
  @IsUtcTimestamp()
  endedAt?: string;

  @IsOptional()
  @IsIn(CALL_DISPOSITIONS)
  disposition?: CallDisposition;

  /**
   * ended: with `startedAt`, the whole call from that start (Zadarma duration); without it, the length of the
   * connected call, i.e. talk when nothing better is known (a generic ended event). recording.ready: the
   * recording's length.
   */
  @IsOptional()
  @IsSeconds()
  durationSeconds?: number;
}

/**
 * `telephony.call.recording.ready` v1: a recording of a call named by its id. A provider's recording callback
 * knows the call but not who talked (Twilio's sends CallSid and RecordingSid, no direction or parties), so
 * direction, from and to are optional here: the call log takes them from the call's other events.
 */
export class CallRecordingV1 extends CallFields {
  @IsOptional()
  @IsIn(CALL_DIRECTIONS)
  direction?: CallDirection;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  from?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  to?: string;

  @IsUtcTimestamp()
  occurredAt: string;

  @IsOptional()
  @IsUtcTimestamp()
  startedAt?: string;

  @IsOptional()
  @IsUtcTimestamp()
  endedAt?: string;

  @IsOptional()
  @IsIn(CALL_DISPOSITIONS)
  disposition?: CallDisposition;

  /** The recording's length. */
  @IsOptional()
  @IsSeconds()
  durationSeconds?: number;
}

/** Any telephony payload: what a call's timeline holds. */
export type CallPayload = CallEventV1 | CallRecordingV1 | CallRecordV1;

/**
 * `telephony.call.completed` v1: the call detail record, enough on its own to log a finished call even if
 * no live event was seen. endedAt is optional because some providers (Zadarma) give only start + duration.
 */
export class CallRecordV1 extends CallBase {
  @IsUtcTimestamp()
  startedAt: string;

  @IsOptional()
  @IsUtcTimestamp()
  endedAt?: string;

  @IsIn(CALL_DISPOSITIONS)
  disposition: CallDisposition;

  @IsSeconds()
  durationSeconds: number;
}

/** Natural keys for the registry (when no idempotency key is given) and the adapters, so both agree. */
export const callEventKey = (type: CallEventType, e: CallEventV1 | CallRecordingV1): string =>
  `${e.provider}:${e.providerCallId}:${type.slice('telephony.call.'.length)}${
    e.sequence === undefined ? '' : `:${e.sequence}`
  }`;
export const callRecordKey = (r: CallRecordV1): string =>
  `${r.provider}:${r.providerCallId}:cdr${r.sequence === undefined ? '' : `:${r.sequence}`}:${r.startedAt}`;
/** envelope.occurredAt of a CDR: when the call ended, else when it started. */
export const callRecordOccurredAt = (r: CallRecordV1): string => r.endedAt ?? r.startedAt;
