import {
  TELEPHONY_EVENT_TYPES as T,
  type CallDirection,
  type CallEventV1,
  type CallRecordingV1,
} from '@switchboard/contracts';
import { verifyTwilio } from '@switchboard/peer-auth';
import type { AdaptedEvent, ProviderAdapter } from '../provider-adapter';
import { callEvent, Fields, receivedNow, unanswered, violation } from './parse';

const DIRECTIONS: Record<string, CallDirection> = {
  inbound: 'inbound',
  'outbound-api': 'outbound',
  'outbound-dial': 'outbound',
  // Elastic SIP Trunking (Call resource `direction`): terminating = from the PBX out to the phone network,
  // originating = from the phone network in to the PBX.
  'trunking-terminating': 'outbound',
  'trunking-originating': 'inbound',
};

const FINAL: Record<string, CallEventV1['disposition'] | 'unanswered'> = {
  completed: 'answered',
  busy: 'busy',
  failed: 'failed',
  'no-answer': 'unanswered',
  canceled: 'cancelled',
};

/** `Timestamp` is RFC 2822 (`Mon, 16 Aug 2010 03:45:01 +0000`); the first voice webhook has none. */
function occurredAt(f: Fields): string {
  const ts = f.optText('Timestamp');
  if (ts === undefined) return receivedNow();
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) throw violation('Timestamp', 'isDate', 'Timestamp must be an RFC 2822 date');
  return new Date(ms).toISOString();
}

/**
 * The separate recording status callback (`recordingStatusCallback` of <Dial>, <Record>, <Start><Recording>
 * or the Recordings API): AccountSid, CallSid, RecordingSid, RecordingUrl, RecordingStatus, RecordingDuration,
 * RecordingChannels, RecordingSource, RecordingStartTime, ErrorCode; no CallStatus, Direction, From or To.
 * Only `completed` means a file to fetch (RecordingUrl as given: Twilio serves it as .wav/.mp3 by suffix);
 * in-progress, absent, failed, ... are acknowledged with no event.
 */
function recordingCallback(f: Fields): AdaptedEvent[] {
  const callSid = f.str('CallSid');
  const recordingSid = f.str('RecordingSid');
  if (f.str('RecordingStatus') !== 'completed') return [];
  // No direction or parties: the recording contract leaves them out, and the call log takes them from the
  // call's status callbacks.
  const recording: CallRecordingV1 = {
    provider: 'twilio',
    providerCallId: callSid,
    // A child leg's recording groups with its call when Twilio names the parent; when it names only the
    // child leg (<Dial record>), the telephony connector finds the call that leg belongs to.
    parentCallId: f.optText('ParentCallSid'),
    // Receipt time, not RecordingStartTime + RecordingDuration: that can precede the call's own final
    // callback, and the earliest fact of a call should be one with parties.
    occurredAt: receivedNow(),
    recordingUrl: f.str('RecordingUrl'),
    recordingId: recordingSid,
    durationSeconds: f.optInt('RecordingDuration'),
  };
  // The same key as the recording.ready of a final status callback that carries this recording.
  return [callEvent(T.recordingReady, recording, `twilio:${callSid}:recording:${recordingSid}`)];
}

/**
 * Twilio voice webhooks and status callbacks (form POSTs, X-Twilio-Signature). CallStatus drives the
 * event: queued/initiated -> started, ringing, in-progress -> answered, final statuses -> ended (plus
 * recording.ready when the callback carries RecordingUrl). A recording status callback (RecordingStatus,
 * no CallStatus) -> recording.ready. Twilio sends no CDR; `ended` carries the duration.
 */
export const twilioAdapter: ProviderAdapter = {
  provider: 'twilio',

  verify: (req, secret) => verifyTwilio(req, secret),

  toEvents(req): AdaptedEvent[] {
    const f = Fields.fromForm(req.rawBody);
    if (!f.has('CallStatus') && f.has('RecordingStatus')) return recordingCallback(f);
    const status = f.str('CallStatus');
    const rawDirection = f.str('Direction');
    const direction = DIRECTIONS[rawDirection];
    if (!direction) throw violation('Direction', 'isIn', `unknown Direction "${rawDirection}"`);
    const at = occurredAt(f);
    const callSid = f.str('CallSid');
    const from = f.optStr('From') ?? '';
    const to = f.str('To');
    const base: CallEventV1 = {
      provider: 'twilio',
      providerCallId: callSid,
      parentCallId: f.optText('ParentCallSid'),
      sequence: f.optInt('SequenceNumber'),
      direction,
      from,
      to,
      // Our Twilio number: the called one inbound, the caller id of an API-created (or trunked) call; a dialled
      // child leg (outbound-dial) shows the original caller, so it has no line of ours.
      line: direction === 'inbound' ? to : rawDirection === 'outbound-dial' ? undefined : from,
      callerName: f.optText('CallerName'),
      occurredAt: at,
    };
    const key = (state: string) => `twilio:${callSid}:${state}`;

    switch (status) {
      case 'queued':
      case 'initiated':
        return [callEvent(T.started, { ...base, startedAt: at }, key('started'))];
      case 'ringing':
        return [callEvent(T.ringing, base, key('ringing'))];
      case 'in-progress':
        return [callEvent(T.answered, { ...base, answeredAt: at }, key('answered'))];
    }
    const final = FINAL[status];
    if (!final) throw violation('CallStatus', 'isIn', `unknown CallStatus "${status}"`);
    // A completed call picked up by an answering machine (AMD enabled) reached no person.
    const machine = /^machine|^fax/.test(f.optStr('AnsweredBy') ?? '');
    const sip = f.optText('SipResponseCode');
    const ended: CallEventV1 = {
      ...base,
      endedAt: at,
      disposition:
        final === 'unanswered'
          ? unanswered(direction)
          : final === 'answered' && machine
            ? 'voicemail'
            : final,
      durationSeconds: f.optInt('CallDuration'),
      // Twilio counts a call's duration (Call resource `duration`, callback CallDuration) from when it was
      // answered/connected, not from when it was placed: it is the billed, talking time, so this is talk.
      // A `completed` callback alone then still says how long they talked (the fold places the answer at
      // end - talk); on a parent leg with dialled agent legs the agents' legs decide instead.
      billSeconds: final === 'answered' && !machine ? f.optInt('CallDuration') : undefined,
      hangupCause: sip === undefined ? undefined : `sip:${sip}`,
    };
    const events = [callEvent(T.ended, ended, key('ended'))];
    const recordingUrl = f.optText('RecordingUrl');
    if (recordingUrl !== undefined) {
      const recordingSid = f.optText('RecordingSid');
      events.push(
        callEvent(
          T.recordingReady,
          {
            ...ended,
            recordingUrl,
            recordingId: recordingSid,
            durationSeconds: f.optInt('RecordingDuration'),
          },
          key(`recording:${recordingSid ?? recordingUrl}`),
        ),
      );
    }
    return events;
  },
};
