import type { CallDirection, CallDisposition, CallRecordV1 } from '@switchboard/contracts';
import { verifyAsteriskSignature } from '@switchboard/peer-auth';
import type { AdaptedEvent, ProviderAdapter, ProviderPeer } from '../provider-adapter';
import { callRecord, Fields, localToUtc, mediaType, parseCallerId, parseCsv, violation } from './parse';
import { parseExactJson } from '../lossless-json';

/** cdr_csv `build_csv_record()` column order; uniqueid and userfield follow when cdr_csv logs them. */
export const CDR_CSV_COLUMNS = [
  'accountcode',
  'src',
  'dst',
  'dcontext',
  'clid',
  'channel',
  'dstchannel',
  'lastapp',
  'lastdata',
  'start',
  'answer',
  'end',
  'duration',
  'billsec',
  'disposition',
  'amaflags',
  'uniqueid',
  'userfield',
] as const;

/** AMI `Cdr` event header -> CDR variable name (cdr_manager). */
const AMI_NAMES: Record<string, string> = {
  AccountCode: 'accountcode',
  Source: 'src',
  Destination: 'dst',
  DestinationContext: 'dcontext',
  CallerID: 'clid',
  Channel: 'channel',
  DestinationChannel: 'dstchannel',
  LastApplication: 'lastapp',
  LastData: 'lastdata',
  StartTime: 'start',
  AnswerTime: 'answer',
  EndTime: 'end',
  Duration: 'duration',
  BillableSeconds: 'billsec',
  Disposition: 'disposition',
  AMAFlags: 'amaflags',
  UniqueID: 'uniqueid',
  UserField: 'userfield',
  LinkedID: 'linkedid',
  Sequence: 'sequence',
};

const DISPOSITIONS: Record<string, CallDisposition | 'unanswered'> = {
  ANSWERED: 'answered',
  'NO ANSWER': 'unanswered',
  BUSY: 'busy',
  FAILED: 'failed',
  CONGESTION: 'failed',
};

const UNSET_TIME = /^(0+(\.0+)?|0000-00-00[ T]00:00:00(\.0+)?)$/;

/** An extension, not a phone number: short digits (FreePBX/Asterisk dialplans use 2-6). */
const EXTENSION = /^\d{2,6}$/;

/** `SIP/101-0000002a`, `PJSIP/101-00000001` -> `101`. */
const channelPeer = (channel: string | undefined): string | undefined =>
  channel ? /^[A-Za-z0-9]+\/([^-@/]+)/.exec(channel)?.[1] : undefined;

function direction(cdr: Fields, src: string, dst: string): CallDirection {
  // A dialplan can state it (Set(CDR(direction)=inbound) with cdr_custom); otherwise: who is an extension.
  const stated = cdr.optText('direction');
  if (stated === 'inbound' || stated === 'outbound' || stated === 'internal') return stated;
  const fromExt = EXTENSION.test(src);
  // A dialled phone number decides; only a non-number dst (`s`, a queue) defers to the channel that answered.
  const dialledNumber = /^\+?\d{7,}$/.test(dst);
  const toExt =
    EXTENSION.test(dst) || (!dialledNumber && EXTENSION.test(channelPeer(cdr.optText('dstchannel')) ?? ''));
  return fromExt && toExt ? 'internal' : fromExt ? 'outbound' : 'inbound';
}

/** One CDR (CDR variable names as keys, values as Asterisk prints them) -> completed event, or none. */
function fromCdr(cdr: Fields, peer: ProviderPeer, where: string): AdaptedEvent[] {
  const field = (name: string) => (where ? `${where}.${name}` : name);
  if (cdr.optStr('amaflags') === 'OMIT') return []; // "This CDR should be ignored"
  const uniqueid = cdr.str('uniqueid');
  const rawDisposition = cdr.str('disposition');
  const mapped = DISPOSITIONS[rawDisposition];
  if (!mapped) throw violation(field('disposition'), 'isIn', `unknown disposition "${rawDisposition}"`);

  const clid = parseCallerId(cdr.optStr('clid') ?? '');
  const src = cdr.optText('src') ?? clid.number;
  // dst is `s` for a call that ended in the dialplan/IVR; a CDR with none names the callee by its channel.
  const dst = cdr.optText('dst') ?? channelPeer(cdr.optText('dstchannel'));
  if (dst === undefined) throw violation(field('dst'), 'isNotEmpty', `${field('dst')} is required`);
  const dir = direction(cdr, src, dst);
  const dstPeer = channelPeer(cdr.optText('dstchannel'));

  const time = (name: string, notBefore?: string) => {
    const raw = cdr.optText(name);
    // Unanswered calls have no answer time: empty in cdr_csv/AMI, `0.000000` from ${CDR(answer,u)},
    // `0000-00-00 00:00:00` from SQL backends a shipper may read.
    if (raw === undefined || UNSET_TIME.test(raw.trim())) return undefined;
    return /^\d+(\.\d+)?$/.test(raw)
      ? new Date(Math.round(Number(raw) * 1000)).toISOString() // ${CDR(start,u)}: unix seconds
      : localToUtc(raw, peer.timezone, field(name), notBefore);
  };
  const startedAt = time('start');
  if (startedAt === undefined) throw violation(field('start'), 'isNotEmpty', `${field('start')} is required`);
  const answeredAt = time('answer', startedAt);
  const endedAt = time('end', answeredAt ?? startedAt);

  const recording = cdr.optText('recordingfile'); // FreePBX column, not core Asterisk
  const record: CallRecordV1 = {
    provider: 'asterisk',
    providerCallId: uniqueid,
    linkedId: cdr.optText('linkedid'),
    sequence: cdr.optInt('sequence'),
    direction: dir,
    from: src,
    to: dst,
    // PBXs often put the number itself in the name when they know no name: that is not a name.
    callerName:
      clid.name !== undefined && clid.name !== clid.number && clid.name !== src ? clid.name : undefined,
    line: cdr.optText('did'),
    extension: dir === 'outbound' ? src : EXTENSION.test(dst) ? dst : dstPeer,
    startedAt,
    answeredAt,
    endedAt,
    // Asterisk docs: duration = EndTime - StartTime, the whole call from dial (AMI Cdr); billsec = "duration
    // of the call once it was answered" (CDR variables), i.e. talk, 0 when unanswered. (The AMI Cdr page's
    // "AnswerTime - StartTime" for BillableSeconds contradicts the CDR variables page and cdr.c; not used.)
    durationSeconds: cdr.int('duration'),
    billSeconds: cdr.int('billsec'),
    disposition: mapped === 'unanswered' ? (dir === 'inbound' ? 'missed' : 'no-answer') : mapped,
    hangupCause: rawDisposition === 'CONGESTION' ? 'CONGESTION' : undefined,
    recordingUrl: recording && /^https?:\/\//.test(recording) ? recording : undefined,
    recordingId: recording && !/^https?:\/\//.test(recording) ? recording : undefined,
  };
  // Asterisk 12+ writes several CDRs per channel (one per party B); sequence or dstchannel tells them apart.
  const part = record.sequence ?? `${cdr.optStr('dstchannel') ?? ''}@${startedAt}`;
  return [callRecord(record, `asterisk:${uniqueid}:cdr:${part}`)];
}

function fromCsv(text: string, peer: ProviderPeer): AdaptedEvent[] {
  return parseCsv(text).flatMap((row, i) => {
    if (row.length < 17) {
      throw violation(
        `${i}`,
        'cdrCsvColumns',
        `line ${i + 1}: cdr_csv line needs uniqueid (loguniqueid=yes)`,
      );
    }
    // Columns past userfield (other builds, future options) are ignored, like unknown JSON fields.
    const values = Object.fromEntries(CDR_CSV_COLUMNS.map((name, c) => [name, row[c]]));
    return fromCdr(new Fields(values, String(i)), peer, String(i));
  });
}

function fromJsonObject(value: unknown, peer: ProviderPeer, where: string): AdaptedEvent[] {
  const obj = Fields.of(value, where);
  const event = obj.optStr('Event');
  if (event === undefined) return fromCdr(obj, peer, where); // cdr_custom template keyed by CDR variables
  if (event !== 'Cdr') throw violation(where ? `${where}.Event` : 'Event', 'isIn', 'only AMI Cdr events');
  const renamed: Record<string, unknown> = {};
  for (const [ami, name] of Object.entries(AMI_NAMES)) renamed[name] = obj.raw(ami);
  // cdr_manager [mappings] add fields under their own names (e.g. recordingfile); keep them readable.
  for (const extra of ['recordingfile', 'did', 'direction', 'linkedid', 'sequence']) {
    renamed[extra] ??= obj.raw(extra);
  }
  return fromCdr(new Fields(renamed, where), peer, where);
}

/**
 * Asterisk has no webhooks, so a small shipper on the PBX POSTs what Asterisk writes: Master.csv lines
 * (text/csv, cdr_csv column order), cdr_custom lines written as JSON (keys = CDR variable names), or AMI
 * `Cdr` events converted to JSON. Each CDR becomes one telephony.call.completed. Times are the PBX's
 * local time (unless usegmtime / an explicit offset), read in the peer's timezone.
 * Authentication is ours, since Asterisk has none: `X-Signature: v2=...` over timestamp, method, path and body
 * (libs/peer-auth signatures/asterisk.ts); body-only version 1 only while the migration switch is on.
 */
export const asteriskAdapter: ProviderAdapter = {
  provider: 'asterisk',

  verify: (req, secret, policy) =>
    verifyAsteriskSignature(req, secret, {
      toleranceSeconds: policy?.toleranceSeconds,
      allowV1: policy?.allowLegacySignatures ?? false,
    }),

  toEvents(req, peer): AdaptedEvent[] {
    const text = req.rawBody.toString('utf8');
    const type = mediaType(req);
    if (type === 'text/csv' || type === 'text/plain') return fromCsv(text, peer);
    if (type !== 'application/json' && type !== '') {
      throw violation('', 'mediaType', `unsupported content type "${type}"`);
    }
    let parsed: unknown;
    try {
      parsed = parseExactJson(text);
    } catch {
      throw violation('', 'isJson', 'the body must be JSON');
    }
    return Array.isArray(parsed)
      ? parsed.flatMap((item, i) => fromJsonObject(item, peer, String(i)))
      : fromJsonObject(parsed, peer, '');
  },
};
