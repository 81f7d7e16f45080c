import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  CALL_EVENT_TYPES,
  CallEventV1,
  CONTRACTS,
  ContractViolation,
  EventType,
  TELEPHONY_EVENT_TYPES,
  validateContract,
  type CallEventType,
  type FieldError,
} from '@switchboard/contracts';
import { ApiDoc, FastRoutes } from '@switchboard/http';
import type { AuthenticatedPeer } from '@switchboard/peer-auth';
import { ACCEPTED_ONE } from './api-docs';
import { Peer, PeerAuthGuard } from './auth/peer-auth.guard';
import { IngestService } from './ingest.service';

const PREFIX = 'telephony.call.';
const SHORT_NAMES = CALL_EVENT_TYPES.map((t) => t.slice(PREFIX.length));

/**
 * The event a `type` field names: the full type (`telephony.call.answered`) or its short name (`answered`,
 * `recording.ready`); null for anything else. The CDR is not a call event: it has its own route and DTO.
 */
export function parseCallEventType(value: unknown): CallEventType | null {
  if (typeof value !== 'string') return null;
  const full = value.startsWith(PREFIX) ? value : `${PREFIX}${value}`;
  return (CALL_EVENT_TYPES as readonly string[]).includes(full) ? (full as CallEventType) : null;
}

function typeError(value: unknown): FieldError {
  const cdr =
    value === TELEPHONY_EVENT_TYPES.cdr || value === TELEPHONY_EVENT_TYPES.cdr.slice(PREFIX.length)
      ? ' (a call detail record goes to POST /v1/telephony/cdr)'
      : '';
  return value === undefined || value === null || value === ''
    ? { field: 'type', rule: 'isNotEmpty', message: `type is required: one of ${SHORT_NAMES.join(', ')}` }
    : {
        field: 'type',
        rule: 'isIn',
        message: `type must be one of ${SHORT_NAMES.join(', ')} (or the full telephony.call.<name>)${cdr}`,
      };
}

/**
 * Splits a `POST /v1/telephony/events` body into the event type and the CallEventV1 payload (without `type`,
 * since the contract forbids unknown fields). An unknown or missing type is a ContractViolation that also
 * lists the payload's own field errors, so the peer hears everything wrong at once.
 */
export function splitCallEvent(body: unknown): { type: CallEventType; payload: Record<string, unknown> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ContractViolation([{ field: '', rule: 'isObject', message: 'the body must be a JSON object' }]);
  }
  const { type: rawType, ...payload } = body as Record<string, unknown>;
  const type = parseCallEventType(rawType);
  if (type) return { type, payload };
  const errors = [typeError(rawType)];
  let errorCount = 1;
  try {
    validateContract(CallEventV1, payload);
  } catch (err) {
    if (!(err instanceof ContractViolation)) throw err;
    errors.push(...err.errors);
    errorCount += err.errorCount;
  }
  throw new ContractViolation(errors, undefined, errorCount);
}

/**
 * Telephony in our own format, for PBXs and middleware that speak it directly (provider-native webhooks go
 * to /v1/providers/<provider>/<peerId>). 202 = the broker confirmed the event to a durable queue.
 */
@FastRoutes()
@Controller('v1/telephony')
@UseGuards(PeerAuthGuard)
export class TelephonyController {
  constructor(private readonly ingest: IngestService) {}

  /** One live call event (CallEventV1) plus `type`: started, ringing, answered, transferred, ended, recording.ready. */
  @Post('events')
  @ApiDoc({
    summary: 'One live call event: CallEventV1 plus `type`.',
    body: {
      dto: CallEventV1,
      extraProperties: {
        type: {
          type: 'string',
          enum: [...SHORT_NAMES, ...CALL_EVENT_TYPES],
          description: 'The event: its short name or the full telephony.call.<name>.',
        },
      },
    },
    responses: ACCEPTED_ONE,
  })
  @HttpCode(202)
  submitEvent(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ eventId: string }> {
    const { type, payload } = splitCallEvent(body);
    return this.ingest.accept({ type, peer, body: payload, idempotencyKey });
  }

  /** The call detail record (CallRecordV1) of a finished call: telephony.call.completed. */
  @Post('cdr')
  @ApiDoc({
    summary: 'The call detail record of a finished call (telephony.call.completed).',
    body: { dto: CONTRACTS[EventType.TelephonyCallCompleted].dto },
    responses: ACCEPTED_ONE,
  })
  @HttpCode(202)
  submitRecord(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ eventId: string }> {
    return this.ingest.accept({ type: EventType.TelephonyCallCompleted, peer, body, idempotencyKey });
  }
}
