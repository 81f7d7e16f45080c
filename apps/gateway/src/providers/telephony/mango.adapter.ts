import { TELEPHONY_EVENT_TYPES as T, type CallDirection, type CallEventV1 } from '@switchboard/contracts';
import { verifyMango, type MangoSecret } from '@switchboard/peer-auth';
import type { AdaptedEvent, ProviderAdapter, ProviderRequest } from '../provider-adapter';
import { callEvent, callRecord, Fields, unanswered, unixToIso, urlPath, violation } from './parse';

/**
 * The peer's signing secret holds both Mango values as `<vpbx_api_key>:<vpbx_api_salt>` (one secret column
 * per peer); Mango issues both as alphanumeric strings, so the first ':' separates them.
 */
export function mangoSecret(secret: string): MangoSecret | null {
  const i = secret.indexOf(':');
  return i > 0 && i < secret.length - 1 ? { apiKey: secret.slice(0, i), apiSalt: secret.slice(i + 1) } : null;
}

/** Checked against when the configured secret does not parse, so that path costs the same. */
const UNUSABLE_SECRET: MangoSecret = { apiKey: 'x'.repeat(32), apiSalt: 'x'.repeat(32) };

/** The event JSON from the same `json` form field verifyMango checked. */
function eventJson(req: ProviderRequest): Fields {
  return Fields.fromJson(Fields.fromForm(req.rawBody).str('json'), 'json');
}

const EVENT_PATH = /\/events\/([a-z_][a-z_/]*?)\/?$/;

/**
 * `call` for `<base>/events/call`. The gateway passes what follows the peer id (`subPath`), which must then
 * be exactly `events/<name>`; without it (a URL of unknown shape) the URL's tail decides.
 */
function eventName(req: ProviderRequest): string {
  const path = req.subPath !== undefined ? `/${req.subPath}` : urlPath(req.url);
  const m = EVENT_PATH.exec(path);
  if (!m || (req.subPath !== undefined && m.index !== 0)) {
    throw violation('', 'isMangoEvent', `not a Mango event path: ${path || '/'}`);
  }
  return m[1];
}

/** events/call says no direction; an extension on a side means that side is an employee. */
function direction(from: Fields, to: Fields): CallDirection {
  const fromExt = from.optText('extension') !== undefined;
  const toExt = to.optText('extension') !== undefined;
  return fromExt && toExt ? 'internal' : fromExt ? 'outbound' : 'inbound';
}

/**
 * The called party, from what Mango sends in this outcome. `to.number` is absent when the call never reached
 * an employee (hung up in the IVR, timed out in a queue: `to` is `{}` or holds only `line_number`/
 * `acd_group`), and an employee reached by extension may have no number: then the extension, then the line
 * (our number, which is what an outside caller dialled). Refused only when there is none of them.
 */
function calledParty(to: Fields, line: string | undefined, field: string): string {
  const party = to.optText('number') ?? to.optText('extension') ?? to.optText('line_number') ?? line;
  if (party === undefined) throw violation(field, 'isNotEmpty', `${field} is required`);
  return party;
}

function callEvents(e: Fields): AdaptedEvent[] {
  const state = e.str('call_state');
  if (state === 'OnHold') return []; // holding is not a call state the CRM records
  const from = e.obj('from');
  const to = e.obj('to');
  const dir = direction(from, to);
  const callId = e.str('call_id');
  const seq = e.optInt('seq');
  const at = unixToIso(e.raw('timestamp'), 'json.timestamp');
  const base: CallEventV1 = {
    provider: 'mango',
    providerCallId: callId,
    linkedId: e.optText('entry_id'),
    // A leg created from another (IVR -> employee, pickup, transfer) names its origin here.
    parentCallId: from.optText('taken_from_call_id'),
    sequence: seq,
    direction: dir,
    // An employee calling out may be known by extension only; an outside caller may withhold the number.
    from: from.optText('number') ?? (dir === 'inbound' ? '' : (from.optText('extension') ?? '')),
    to: calledParty(to, from.optText('line_number'), 'json.to.number'),
    line: to.optText('line_number') ?? from.optText('line_number'),
    extension: dir === 'outbound' ? from.optText('extension') : to.optText('extension'),
    occurredAt: at,
  };
  const key = (name: string) => `mango:${callId}:${name}:${seq ?? at}`;
  switch (state) {
    case 'Appeared': {
      const transferred =
        e.optText('transfer') !== undefined ||
        from.raw('was_transferred') === true ||
        to.raw('was_transferred') === true;
      if (transferred) return [callEvent(T.transferred, base, key('transferred'))];
      // An employee's phone ringing vs the call entering the PBX (IVR, queue).
      if (e.optStr('location') === 'abonent') return [callEvent(T.ringing, base, key('ringing'))];
      return [callEvent(T.started, { ...base, startedAt: at }, key('started'))];
    }
    case 'Connected':
      return [callEvent(T.answered, { ...base, answeredAt: at }, key('answered'))];
    case 'Disconnected':
      return [
        callEvent(
          T.ended,
          { ...base, endedAt: at, hangupCause: e.optStr('disconnect_reason') },
          key('ended'),
        ),
      ];
    default:
      throw violation('json.call_state', 'isIn', `unknown call_state "${state}"`);
  }
}

const SUMMARY_DIRECTIONS: Record<number, CallDirection> = { 0: 'internal', 1: 'inbound', 2: 'outbound' };

/**
 * events/summary: one record per finished call (entry), Mango's CDR. Mango's API description (ВАТС API,
 * "summary") gives every time as unix seconds: create_time (the call entered the PBX), forward_time (sent to an
 * employee; 0 if never), talk_time (the conversation began; 0 if nobody answered), end_time (hung up). So
 * talk = end_time - talk_time and the whole call = end_time - create_time; nothing is a duration.
 * entry_result 1 = the call succeeded (was answered). `to` is `{}` for a call that reached no employee (IVR
 * hang-up, queue timeout): then line_number, the number dialled, is the called party.
 */
function summary(e: Fields): AdaptedEvent[] {
  const entryId = e.str('entry_id');
  const dir = SUMMARY_DIRECTIONS[e.int('call_direction')];
  if (!dir) throw violation('json.call_direction', 'isIn', 'call_direction must be 0, 1 or 2');
  const from = e.obj('from');
  const to = e.obj('to');
  const created = e.int('create_time');
  const talk = e.optInt('talk_time') ?? 0; // 0 = never answered
  const end = e.int('end_time');
  const answered = e.int('entry_result') === 1 && talk > 0;
  const startedAt = unixToIso(created, 'json.create_time');
  return [
    callRecord(
      {
        provider: 'mango',
        providerCallId: entryId,
        linkedId: entryId,
        direction: dir,
        from: from.optText('number') ?? (dir === 'inbound' ? '' : (from.optText('extension') ?? '')),
        to: calledParty(to, e.optText('line_number'), 'json.to.number'),
        line: e.optText('line_number'),
        extension: dir === 'outbound' ? from.optText('extension') : to.optText('extension'),
        startedAt,
        answeredAt: answered ? unixToIso(talk, 'json.talk_time') : undefined,
        endedAt: unixToIso(end, 'json.end_time'),
        disposition: answered ? 'answered' : unanswered(dir),
        durationSeconds: Math.max(0, end - created),
        billSeconds: answered ? Math.max(0, end - talk) : 0,
        hangupCause: e.optStr('disconnect_reason'),
      },
      `mango:${entryId}:cdr`,
    ),
  ];
}

/**
 * Mango Office VPBX: form POSTs `vpbx_api_key`, `sign`, `json` to `<base>/events/<name>`. events/call ->
 * started (Appeared in IVR/queue), ringing (Appeared at an employee), transferred, answered (Connected),
 * ended (Disconnected); events/summary -> completed (CDR). Other Mango events (dtmf, sms, recording, ...)
 * are acknowledged with no event, since Mango posts every subscribed event to the same base URL.
 */
export const mangoAdapter: ProviderAdapter = {
  provider: 'mango',

  /**
   * Never throws before doing the full work: with a secret that is not `<key>:<salt>` the request is still
   * checked (against a throwaway secret), so an unsigned or malformed request gets the answer any peer gives
   * (`missing`, `malformed`) at the same cost. Only a signed request then throws, since a misconfigured secret
   * must not read as "the provider sent a bad signature" (the authenticator names the peer; for an unknown
   * peer it treats the throw as a mismatch).
   */
  verify(req, secret) {
    const parsed = mangoSecret(secret);
    const result = verifyMango(req, parsed ?? UNUSABLE_SECRET);
    if (parsed || (!result.ok && result.reason !== 'mismatch')) return result;
    throw new Error('mango signing secret must be "<vpbx_api_key>:<vpbx_api_salt>"');
  },

  toEvents(req): AdaptedEvent[] {
    switch (eventName(req)) {
      case 'call':
        return callEvents(eventJson(req));
      case 'summary':
        return summary(eventJson(req));
      default:
        return [];
    }
  },
};
