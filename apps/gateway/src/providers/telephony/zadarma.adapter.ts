import {
  TELEPHONY_EVENT_TYPES as T,
  type CallDirection,
  type CallDisposition,
  type CallEventV1,
  type CallRecordV1,
} from '@switchboard/contracts';
import { verifyZadarma, zadarmaEcho } from '@switchboard/peer-auth';
import type { AdaptedEvent, ProviderAdapter, ProviderPeer } from '../provider-adapter';
import { callEvent, callRecord, Fields, localToUtc, receivedNow, unanswered, violation } from './parse';

/** SDK doc comment values; every reason a call could not be placed is `failed` with the reason kept. */
function disposition(raw: string, direction: CallDirection): CallDisposition {
  switch (raw) {
    case 'answered':
      return 'answered';
    case 'busy':
      return 'busy';
    case 'cancel':
      return 'cancelled';
    case 'no answer':
      return unanswered(direction);
    default:
      return 'failed';
  }
}

/**
 * Receipt time for events that carry no time of their own (NOTIFY_INTERNAL, NOTIFY_ANSWER), but never
 * before the call's start: the PBX clock (call_start) and ours differ, and a call is not answered before it
 * began. A late webhook (Zadarma retrying after an outage) still gets its arrival time: the event has none.
 */
function receivedNotBefore(startedAt: string): string {
  const now = receivedNow();
  return Date.parse(now) < Date.parse(startedAt) ? startedAt : now;
}

/**
 * Zadarma PBX NOTIFY_* form POSTs (header `Signature`; URL check `GET ?zd_echo=`). Mapping:
 * NOTIFY_START -> started (inbound), NOTIFY_INTERNAL -> ringing (on `internal`), NOTIFY_ANSWER -> answered,
 * NOTIFY_OUT_START -> started (outbound), NOTIFY_END / NOTIFY_OUT_END -> ended + completed (CDR) +
 * recording.ready when is_recorded=1. NOTIFY_RECORD repeats that recording without caller data, and
 * NOTIFY_IVR is a menu hit, so both are acknowledged with no event. `call_start` is the PBX's local time.
 * Times: started = call_start; ended (and its recording) = call_start + duration, whenever the webhook
 * arrives; ringing and answered = receipt time (the events carry none), clamped to be >= call_start.
 */
export const zadarmaAdapter: ProviderAdapter = {
  provider: 'zadarma',

  // Only a GET is the URL check: a POST with zd_echo in its query is still an event to verify.
  handshake(req) {
    if (req.method.toUpperCase() !== 'GET') return null;
    const echo = zadarmaEcho(req);
    return echo === null ? null : { status: 200, contentType: 'text/plain; charset=utf-8', body: echo };
  },

  verify: (req, secret) => verifyZadarma(req, secret),

  toEvents(req, peer: ProviderPeer): AdaptedEvent[] {
    const f = Fields.fromForm(req.rawBody);
    const event = f.str('event');
    if (event === 'NOTIFY_RECORD' || event === 'NOTIFY_IVR') return [];
    const outbound = event.startsWith('NOTIFY_OUT_');
    const direction: CallDirection = outbound ? 'outbound' : 'inbound';
    const callId = f.str('pbx_call_id');
    const startedAt = localToUtc(f.str('call_start'), peer.timezone, 'call_start');
    const internal = f.optText('internal');
    const callerId = f.optStr('caller_id') ?? '';
    const base: CallEventV1 = {
      provider: 'zadarma',
      providerCallId: callId,
      direction,
      // Outbound: the employee's extension is the caller; caller_id is then the number shown, i.e. our line.
      from: outbound ? (internal ?? callerId) : callerId,
      // Inbound: the DID dialled (NOTIFY_ANSWER names it `destination`); a call that came to the PBX by SIP
      // rather than a number has none, and then the extension it rang is the called party.
      to: outbound
        ? f.str('destination')
        : (f.optText('called_did') ?? f.optText('destination') ?? internal ?? f.str('called_did')),
      line: outbound ? f.optText('caller_id') : f.optText('called_did'),
      extension: internal,
      startedAt,
      occurredAt: startedAt,
    };
    const key = (state: string) => `zadarma:${callId}:${state}`;

    switch (event) {
      case 'NOTIFY_START':
      case 'NOTIFY_OUT_START':
        return [callEvent(T.started, base, key('started'))];
      case 'NOTIFY_INTERNAL':
        return [
          callEvent(
            T.ringing,
            { ...base, occurredAt: receivedNotBefore(startedAt) },
            key(`ringing:${internal ?? ''}`),
          ),
        ];
      case 'NOTIFY_ANSWER': {
        const at = receivedNotBefore(startedAt); // the answer time is not in the event
        return [callEvent(T.answered, { ...base, occurredAt: at, answeredAt: at }, key('answered'))];
      }
      case 'NOTIFY_END':
      case 'NOTIFY_OUT_END':
        break;
      default:
        throw violation('event', 'isIn', `unknown event "${event}"`);
    }

    // The SDK documents `duration` as "length in seconds" next to call_start, with no answer time and no
    // talk/ring split; integrations see it non-zero for calls nobody answered (ringing counts), so it is
    // the whole call from call_start, not talk. NOTIFY_END alone therefore says when the call started and
    // ended but not when it was answered: the call log leaves answer, wait and talk unknown (never guessed)
    // until NOTIFY_ANSWER is seen.
    const durationSeconds = f.int('duration');
    // The end is a fact of the event (call_start + duration), not when the webhook reached us: a late or
    // retried NOTIFY_END must not stretch the call.
    const endedAt = new Date(Date.parse(startedAt) + durationSeconds * 1000).toISOString();
    const rawDisposition = f.str('disposition');
    const status = f.optText('status_code');
    const end: CallEventV1 & Pick<CallRecordV1, 'disposition' | 'durationSeconds'> = {
      ...base,
      disposition: disposition(rawDisposition, direction),
      // Q.931 cause when given; otherwise the reason itself for dispositions we fold into `failed`.
      hangupCause:
        status ?? (disposition(rawDisposition, direction) === 'failed' ? rawDisposition : undefined),
      durationSeconds,
      recordingId: f.optStr('is_recorded') === '1' ? f.optText('call_id_with_rec') : undefined,
    };
    const { occurredAt: _occurredAt, ...record } = end;
    const events = [
      callEvent(T.ended, { ...end, endedAt, occurredAt: endedAt }, key('ended')),
      callRecord({ ...record, startedAt }, key('cdr')),
    ];
    if (end.recordingId !== undefined) {
      events.push(
        callEvent(
          T.recordingReady,
          { ...end, occurredAt: endedAt }, // the file exists from the call's end
          key(`recording:${end.recordingId}`),
        ),
      );
    }
    return events;
  },
};
