import { createHmac } from 'node:crypto';
import { CallRecordV1, ContractViolation, validateContract } from '@switchboard/contracts';
import type { ProviderPeer, ProviderRequest } from '../provider-adapter';
import { signAsterisk, signAsteriskV1, type AsteriskSignedParts } from '@switchboard/peer-auth';
import { asteriskAdapter } from './asterisk.adapter';

const SECRET = 'asterisk-push-secret';
const moscow: ProviderPeer = { id: 'pbx-msk', timezone: 'Europe/Moscow' };

const req = (body: string, type = 'text/csv', headers: Record<string, string> = {}): ProviderRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/asterisk',
  headers: { 'content-type': type, ...headers },
  rawBody: Buffer.from(body),
  body,
  query: {},
});

const toEvents = (body: string, type = 'text/csv', peer = moscow) => {
  const events = asteriskAdapter.toEvents(req(body, type), peer);
  for (const e of events) {
    expect(e.type).toBe('telephony.call.completed');
    validateContract(CallRecordV1, e.payload);
  }
  return events.map((e) => e.payload);
};

// No captured Master.csv exists (shared asterisk/SOURCE.md). Lines follow cdr_csv build_csv_record():
// strings quoted with doubled inner quotes, duration/billsec unquoted, unset answer time "".
const answered =
  '"","+79123456789","101","from-trunk","""Иван"" <+79123456789>","PJSIP/trunk-00000001","PJSIP/101-00000002",' +
  '"Dial","PJSIP/101,30,tT","2024-03-31 12:00:00","2024-03-31 12:00:10","2024-03-31 12:01:30",90,80,"ANSWERED",' +
  '"DOCUMENTATION","1711875600.1",""';
const missed =
  '"","+79123456789","101","from-trunk","+79123456789","PJSIP/trunk-00000003","PJSIP/101-00000004","Dial",' +
  '"PJSIP/101,30","2024-03-31 12:05:00","","2024-03-31 12:05:30",30,0,"NO ANSWER","DOCUMENTATION","1711875900.3",""';

describe('asterisk adapter: signature (ours: v2 over timestamp, method, path and body)', () => {
  const NOW = Date.parse('2026-12-07T00:00:00Z');
  const policy = { toleranceSeconds: 300, allowLegacySignatures: false };
  const target = '/hooks/asterisk';
  const signed = (body: string, over: Partial<AsteriskSignedParts> = {}, secret = SECRET) => {
    const parts = { method: 'POST', target, timestampSeconds: NOW / 1000, rawBody: body, ...over };
    return {
      'x-signature-timestamp': String(parts.timestampSeconds),
      'x-signature': signAsterisk(parts, secret),
    };
  };
  const verify = (body: string, headers: Record<string, string>, p = policy) => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    try {
      return asteriskAdapter.verify(req(body, 'text/csv', headers), SECRET, p);
    } finally {
      jest.restoreAllMocks();
    }
  };

  it('accepts a fresh v2 signature of this method, path and body', () => {
    const headers = signed(answered);
    expect(headers['x-signature']).toBe(
      `v2=${createHmac('sha256', SECRET)
        .update(`v2\n${NOW / 1000}\nPOST\n${target}\n${answered}`)
        .digest('hex')}`,
    );
    expect(verify(answered, headers)).toEqual({ ok: true });
    expect(
      verify(answered, {
        ...headers,
        'x-signature': headers['x-signature'].toUpperCase().replace('V2=', 'v2='),
      }),
    ).toEqual({
      ok: true,
    });
  });

  it('refuses another body, path, method, secret, or a missing timestamp', () => {
    expect(verify(missed, signed(answered))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify(answered, signed(answered, { target: '/hooks/other' }))).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verify(answered, signed(answered, { method: 'PUT' }))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify(answered, signed(answered, {}, 'other'))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify(answered, { 'x-signature': signed(answered)['x-signature'] })).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(verify(answered, {})).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses a stale or future timestamp (replays of old captures)', () => {
    expect(verify(answered, signed(answered, { timestampSeconds: NOW / 1000 - 301 }))).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(verify(answered, signed(answered, { timestampSeconds: NOW / 1000 + 301 }))).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuses a version-1 (body only) signature unless the migration switch is on', () => {
    const v1 = { 'x-signature': signAsteriskV1(answered, SECRET) };
    expect(verify(answered, v1)).toEqual({ ok: false, reason: 'malformed' });
    const migrating = { ...policy, allowLegacySignatures: true };
    expect(verify(answered, v1, migrating)).toEqual({ ok: true });
    expect(verify(missed, v1, migrating)).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('asterisk adapter: Master.csv', () => {
  it('reads an answered inbound call: quoted unicode caller id, local Moscow time -> UTC', () => {
    expect(asteriskAdapter.toEvents(req(answered), moscow)).toEqual([
      {
        type: 'telephony.call.completed',
        idempotencyKey: 'asterisk:1711875600.1:cdr:PJSIP/101-00000002@2024-03-31T09:00:00.000Z',
        payload: {
          provider: 'asterisk',
          providerCallId: '1711875600.1',
          direction: 'inbound',
          from: '+79123456789',
          to: '101',
          callerName: 'Иван',
          extension: '101',
          startedAt: '2024-03-31T09:00:00.000Z',
          answeredAt: '2024-03-31T09:00:10.000Z',
          endedAt: '2024-03-31T09:01:30.000Z',
          durationSeconds: 90,
          billSeconds: 80,
          disposition: 'answered',
        },
      },
    ]);
  });

  it('reads several CRLF lines; an empty answer time gives no answeredAt', () => {
    const [, second] = toEvents(`${answered}\r\n${missed}\r\n`);
    expect(second).toMatchObject({ disposition: 'missed', billSeconds: 0, providerCallId: '1711875900.3' });
    expect(second).not.toHaveProperty('answeredAt');
    expect(second).not.toHaveProperty('callerName');
  });

  it('reads a quoted unicode caller id with a space; a name that is only the number is no name', () => {
    const full = answered.replace('"""Иван"" <+79123456789>', '"""Иван Петров"" <+79123456789>');
    expect(toEvents(full)[0]).toMatchObject({ callerName: 'Иван Петров', from: '+79123456789' });
    const numberAsName = answered.replace('"""Иван"" <+79123456789>', '"""+79123456789"" <+79123456789>');
    expect(toEvents(numberAsName)[0]).not.toHaveProperty('callerName');
    // No src: the number comes from clid, the name stays.
    const noSrc = full.replace('"","+79123456789","101"', '"","","101"');
    expect(toEvents(noSrc)[0]).toMatchObject({ from: '+79123456789', callerName: 'Иван Петров' });
  });

  it('takes times as UTC when the peer has no zone (usegmtime=yes)', () => {
    const [utc] = toEvents(answered, 'text/csv', { id: 'pbx-utc', timezone: null });
    expect(utc.startedAt).toBe('2024-03-31T12:00:00.000Z');
  });

  it('orders a call across the DST fall-back: end after start in the repeated hour', () => {
    const line = answered.replace(
      '"2024-03-31 12:00:00","2024-03-31 12:00:10","2024-03-31 12:01:30",90,80',
      '"2024-10-27 02:50:00","2024-10-27 02:50:10","2024-10-27 02:10:00",1200,1190',
    );
    const [cdr] = toEvents(line, 'text/csv', { id: 'pbx-ber', timezone: 'Europe/Berlin' });
    expect(cdr).toMatchObject({
      startedAt: '2024-10-27T00:50:00.000Z',
      answeredAt: '2024-10-27T00:50:10.000Z',
      endedAt: '2024-10-27T01:10:00.000Z',
    });
  });

  it('classifies internal and outbound calls by who is an extension', () => {
    const internal = answered.replace('"+79123456789","101","from-trunk"', '"102","101","from-internal"');
    expect(toEvents(internal)[0]).toMatchObject({ direction: 'internal', extension: '101' });
    // dst `s` (answered via a ring group): the answering channel names the extension.
    const viaS = answered.replace('"+79123456789","101","from-trunk"', '"+79123456789","s","from-trunk"');
    expect(toEvents(viaS)[0]).toMatchObject({ direction: 'inbound', to: 's', extension: '101' });
    const outbound = answered.replace(
      '"+79123456789","101","from-trunk"',
      '"101","+79991112233","from-internal"',
    );
    expect(toEvents(outbound)[0]).toMatchObject({
      direction: 'outbound',
      extension: '101',
      to: '+79991112233',
    });
  });

  it('maps BUSY, FAILED and CONGESTION; skips OMIT; ignores extra columns', () => {
    expect(toEvents(missed.replace('"NO ANSWER"', '"BUSY"'))[0].disposition).toBe('busy');
    expect(toEvents(missed.replace('"NO ANSWER"', '"CONGESTION"'))[0]).toMatchObject({
      disposition: 'failed',
      hangupCause: 'CONGESTION',
    });
    expect(toEvents(missed.replace('"DOCUMENTATION"', '"OMIT"'))).toEqual([]);
    expect(toEvents(`${answered},"extra","columns"`)[0].providerCallId).toBe('1711875600.1');
  });

  it('rejects unknown dispositions, lines without uniqueid and durations that are not integers', () => {
    expect(() => toEvents(missed.replace('"NO ANSWER"', '"MAYBE"'))).toThrow(ContractViolation);
    expect(() => toEvents(answered.split(',"1711875600.1"')[0])).toThrow(ContractViolation);
    expect(() => toEvents(answered.replace(',90,80,', ',90.5,80,'))).toThrow(ContractViolation);
  });
});

describe('asterisk adapter: cdr_custom JSON and AMI Cdr', () => {
  // A cdr_custom.conf template emitting JSON: keys are CDR variable names, every value a string.
  const custom = {
    accountcode: '',
    src: '101',
    dst: '+79991112233',
    dcontext: 'from-internal',
    clid: '"Office" <101>',
    channel: 'PJSIP/101-0000000a',
    dstchannel: 'PJSIP/trunk-0000000b',
    lastapp: 'Dial',
    lastdata: 'PJSIP/+79991112233@trunk',
    start: '2024-03-31 12:10:00',
    answer: '2024-03-31 12:10:05',
    end: '2024-03-31 12:12:05',
    duration: '125',
    billsec: '120',
    disposition: 'ANSWERED',
    amaflags: 'DOCUMENTATION',
    uniqueid: '1711876200.10',
    userfield: '',
    linkedid: '1711876200.10',
    sequence: '12',
    did: '74951234567',
    recordingfile: 'out-79991112233-101-20240331-121000-1711876200.10.wav',
    custom_var: 'unknown fields are ignored',
  };

  it('reads cdr_custom JSON with durations as strings, linkedid, sequence and the recording file', () => {
    expect(asteriskAdapter.toEvents(req(JSON.stringify(custom), 'application/json'), moscow)).toEqual([
      {
        type: 'telephony.call.completed',
        idempotencyKey: 'asterisk:1711876200.10:cdr:12',
        payload: {
          provider: 'asterisk',
          providerCallId: '1711876200.10',
          linkedId: '1711876200.10',
          sequence: 12,
          direction: 'outbound',
          from: '101',
          to: '+79991112233',
          callerName: 'Office',
          line: '74951234567',
          extension: '101',
          startedAt: '2024-03-31T09:10:00.000Z',
          answeredAt: '2024-03-31T09:10:05.000Z',
          endedAt: '2024-03-31T09:12:05.000Z',
          durationSeconds: 125,
          billSeconds: 120,
          disposition: 'answered',
          recordingId: 'out-79991112233-101-20240331-121000-1711876200.10.wav',
        },
      },
    ]);
  });

  it('accepts a JSON array, unix-second times and a dialplan-stated direction', () => {
    const unix = { ...custom, start: '1711876200.5', answer: '', end: '1711876325', direction: 'internal' };
    const [a, b] = toEvents(JSON.stringify([custom, unix]), 'application/json');
    expect(a.direction).toBe('outbound');
    expect(b).toMatchObject({ direction: 'internal', startedAt: '2024-03-31T09:10:00.500Z' });
    expect(b).not.toHaveProperty('answeredAt');
  });

  it('treats a zero answer time (${CDR(answer,u)}, SQL zero dates) as unanswered', () => {
    for (const answer of ['0.000000', '0', '0000-00-00 00:00:00']) {
      const [cdr] = toEvents(
        JSON.stringify({ ...custom, answer, billsec: '0', disposition: 'NO ANSWER' }),
        'application/json',
      );
      expect(cdr).not.toHaveProperty('answeredAt');
      expect(cdr.disposition).toBe('no-answer');
    }
    expect(() => toEvents(JSON.stringify({ ...custom, start: '0' }), 'application/json')).toThrow(
      ContractViolation,
    );
  });

  it('keeps ids sent as JSON numbers digit for digit (1711876200.10 is not call 1711876200.1)', () => {
    // a template that leaves ${CDR(uniqueid)} unquoted: JSON.parse would read 1711876200.1, another call's id
    const body = JSON.stringify({ ...custom, sequence: 12 })
      .replace('"uniqueid":"1711876200.10"', '"uniqueid":1711876200.10')
      .replace('"linkedid":"1711876200.10"', '"linkedid":9007199254740993123');
    const [cdr] = asteriskAdapter.toEvents(req(body, 'application/json'), moscow);
    expect(cdr.idempotencyKey).toBe('asterisk:1711876200.10:cdr:12');
    expect(cdr.payload).toMatchObject({ providerCallId: '1711876200.10', linkedId: '9007199254740993123' });
  });

  it('keeps times that carry their own offset, whatever the peer zone', () => {
    const zoned = {
      ...custom,
      start: '2024-03-31T09:10:00Z',
      answer: '2024-03-31T12:10:05+03:00',
      end: '2024-03-31T09:12:05Z',
    };
    expect(toEvents(JSON.stringify(zoned), 'application/json')[0]).toMatchObject({
      startedAt: '2024-03-31T09:10:00.000Z',
      answeredAt: '2024-03-31T09:10:05.000Z',
      endedAt: '2024-03-31T09:12:05.000Z',
    });
  });

  it('gives idempotency keys the gateway accepts (no spaces) and the same key for the same CDR', () => {
    const body = JSON.stringify({ ...custom, sequence: '' });
    const [a] = asteriskAdapter.toEvents(req(body, 'application/json'), moscow);
    const [b] = asteriskAdapter.toEvents(req(body, 'application/json'), moscow);
    expect(a.idempotencyKey).toMatch(/^[\x21-\x7e]{1,200}$/);
    expect(a.idempotencyKey).toBe(b.idempotencyKey);
    const [csv] = asteriskAdapter.toEvents(req(missed), moscow);
    expect(csv.idempotencyKey).toBe('asterisk:1711875900.3:cdr:PJSIP/101-00000004@2024-03-31T09:05:00.000Z');
  });

  // The AMI Cdr event (doc.AMI_Event_Cdr.Asterisk18.md) as a shipper turns it into JSON.
  const ami = {
    Event: 'Cdr',
    Privilege: 'cdr,all',
    AccountCode: '',
    Source: '',
    Destination: '102',
    DestinationContext: 'from-trunk',
    CallerID: '"Пётр" <+79005554433>',
    Channel: 'SIP/trunk-00000010',
    DestinationChannel: 'SIP/102-00000011',
    LastApplication: 'Dial',
    LastData: 'SIP/102,20',
    StartTime: '2024-03-31 12:20:00',
    AnswerTime: '',
    EndTime: '2024-03-31 12:20:04',
    Duration: '4',
    BillableSeconds: '0',
    Disposition: 'BUSY',
    AMAFlags: 'DOCUMENTATION',
    UniqueID: '1711876800.16',
    UserField: '',
  };

  it('reads an AMI Cdr event; the number comes from CallerID when Source is empty', () => {
    expect(toEvents(JSON.stringify(ami), 'application/json')).toEqual([
      {
        provider: 'asterisk',
        providerCallId: '1711876800.16',
        direction: 'inbound',
        from: '+79005554433',
        to: '102',
        callerName: 'Пётр',
        extension: '102',
        startedAt: '2024-03-31T09:20:00.000Z',
        endedAt: '2024-03-31T09:20:04.000Z',
        durationSeconds: 4,
        billSeconds: 0,
        disposition: 'busy',
      },
    ]);
  });

  it('rejects other AMI events, non-JSON and other media types', () => {
    expect(() => toEvents(JSON.stringify({ ...ami, Event: 'Hangup' }), 'application/json')).toThrow(
      ContractViolation,
    );
    expect(() => toEvents('{"src":', 'application/json')).toThrow(ContractViolation);
    expect(() => toEvents(answered, 'application/xml')).toThrow(ContractViolation);
    const { UniqueID: _u, ...noId } = ami;
    expect(() => toEvents(JSON.stringify(noId), 'application/json')).toThrow(ContractViolation);
  });
});

/**
 * Issue 13: each call outcome a CDR records, with the fields Asterisk leaves empty in that outcome (cdr_custom
 * JSON keyed by CDR variable names). Accepted where Asterisk writes it; refused only when unusable.
 */
describe('asterisk adapter: documented-optional fields per call outcome', () => {
  const refusal = (run: () => unknown): string[] => {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(ContractViolation);
      return (e as ContractViolation).errors.map((x) => `${x.field}:${x.rule}`);
    }
    throw new Error('expected a refusal');
  };
  const cdr = {
    clid: '"Иван" <+79123456789>',
    src: '+79123456789',
    dst: '101',
    dcontext: 'from-trunk',
    channel: 'PJSIP/trunk-00000001',
    dstchannel: 'PJSIP/101-00000002',
    lastapp: 'Dial',
    start: '2024-03-31 12:00:00',
    answer: '2024-03-31 12:00:10',
    end: '2024-03-31 12:01:30',
    duration: '90',
    billsec: '80',
    disposition: 'ANSWERED',
    amaflags: 'DOCUMENTATION',
    uniqueid: '1711875600.1',
    linkedid: '1711875600.1',
  };
  const json = (over: Record<string, string>) => JSON.stringify({ ...cdr, ...over });
  const unanswered = { answer: '', billsec: '0', dstchannel: '' };

  const outcomes: Array<[string, Record<string, string>, Record<string, unknown>]> = [
    [
      'hung up in the IVR (dst `s`, no dstchannel; the IVR answered the channel)',
      { dst: 's', dstchannel: '', lastapp: 'BackGround', billsec: '12', end: '2024-03-31 12:00:22' },
      { to: 's', disposition: 'answered', billSeconds: 12, direction: 'inbound' },
    ],
    [
      'queue timeout: NO ANSWER, answer empty',
      { ...unanswered, dst: '500', lastapp: 'Queue', disposition: 'NO ANSWER' },
      { to: '500', disposition: 'missed', billSeconds: 0, answeredAt: undefined },
    ],
    [
      'answer written as 0.000000 (${CDR(answer,u)})',
      { ...unanswered, answer: '0.000000', disposition: 'NO ANSWER' },
      { answeredAt: undefined },
    ],
    ['busy', { ...unanswered, disposition: 'BUSY' }, { disposition: 'busy' }],
    [
      'congestion',
      { ...unanswered, disposition: 'CONGESTION' },
      { disposition: 'failed', hangupCause: 'CONGESTION' },
    ],
    ['a withheld caller (src and clid empty)', { src: '', clid: '' }, { from: '' }],
    [
      'internal: extension to extension',
      { src: '101', clid: '<101>', dst: '102', dstchannel: 'PJSIP/102-00000003' },
      { direction: 'internal', from: '101', to: '102' },
    ],
    [
      'failed outbound call',
      { ...unanswered, src: '101', clid: '<101>', dst: '89123456789', disposition: 'FAILED' },
      { direction: 'outbound', disposition: 'failed', extension: '101' },
    ],
    [
      'forwarded by the dialplan: dst empty, the answering channel names the callee',
      { dst: '', dstchannel: 'PJSIP/102-00000005' },
      { to: '102', extension: '102' },
    ],
  ];

  it.each(outcomes)('%s: accepted', (_name, over, expected) => {
    const [record] = toEvents(json(over), 'application/json');
    // A key expected undefined must be absent; every other one present with that value.
    const present = Object.fromEntries(
      Object.keys(expected)
        .filter((k) => k in record)
        .map((k) => [k, record[k]]),
    );
    expect(present).toEqual(Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)));
  });

  it('amaflags OMIT: acknowledged with no event', () => {
    expect(toEvents(json({ amaflags: 'OMIT' }), 'application/json')).toEqual([]);
  });

  it.each([
    ['no uniqueid', { uniqueid: '' }, ['uniqueid:isNotEmpty']],
    ['no start', { start: '' }, ['start:isNotEmpty']],
    ['no callee at all (no dst, no dstchannel)', { dst: '', dstchannel: '' }, ['dst:isNotEmpty']],
    ['an unknown disposition', { disposition: 'MAYBE' }, ['disposition:isIn']],
  ])('%s: refused', (_name, over, errors) => {
    expect(refusal(() => toEvents(json(over), 'application/json'))).toEqual(errors);
  });
});
