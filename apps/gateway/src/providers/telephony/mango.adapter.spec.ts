import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthError,
  CallEventV1,
  CallRecordV1,
  ContractViolation,
  validateContract,
} from '@switchboard/contracts';
import {
  IpAllowlist,
  mangoFormBody,
  PeerAuthenticator,
  PeerDirectory,
  type DirectoryPeer,
} from '@switchboard/peer-auth';
import type { ProviderRequest } from '../provider-adapter';
import { mangoAdapter, mangoSecret } from './mango.adapter';

const dir = join(__dirname, '../../../../../test/fixtures/providers/telephony/mango');
const abonent = readFileSync(join(dir, 'events-call.appeared.abonent.json.txt'), 'utf8');
const ivr = readFileSync(join(dir, 'events-call.appeared.ivr.json.txt'), 'utf8');
const KEY = { apiKey: 'testvpbxapikey', apiSalt: 'testvpbxapisalt' };
const SECRET = `${KEY.apiKey}:${KEY.apiSalt}`;
const peer = { id: 'mango-main', timezone: 'Europe/Moscow' };

const req = (json: string, event = 'call', body = mangoFormBody(json, KEY)): ProviderRequest => ({
  method: 'POST',
  url: `https://sb.example/hooks/mango/events/${event}`,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  rawBody: Buffer.from(body),
  body: Object.fromEntries(new URLSearchParams(body)),
  query: {},
});

const toEvents = (json: string, event = 'call') => {
  const events = mangoAdapter.toEvents(req(json, event), peer);
  for (const e of events) {
    validateContract<object>(e.type === 'telephony.call.completed' ? CallRecordV1 : CallEventV1, e.payload);
  }
  return events;
};

/** The abonent sample with some fields changed (for states no real sample shows). */
const variant = (over: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(abonent), ...over });

describe('mango adapter: auth', () => {
  it('verifies sign over the exact json with key:salt from the peer secret', () => {
    expect(mangoSecret(SECRET)).toEqual(KEY);
    expect(mangoAdapter.verify(req(abonent), SECRET)).toEqual({ ok: true });
    expect(mangoAdapter.verify(req(abonent), `${KEY.apiKey}:wrong-salt`)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    const tampered = mangoFormBody(abonent, KEY).replace('103', '104');
    expect(mangoAdapter.verify(req(abonent, 'call', tampered), SECRET)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a peer secret that is not key:salt (configuration error, not a bad request)', () => {
    expect(mangoSecret('no-colon')).toBeNull();
    expect(() => mangoAdapter.verify(req(abonent), 'no-colon')).toThrow('vpbx_api_key');
  });

  it('with a secret that is not key:salt still answers unsigned and malformed requests like any peer', () => {
    const unsigned = new URLSearchParams({ json: abonent }).toString();
    expect(mangoAdapter.verify(req(abonent, 'call', unsigned), 'no-colon')).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(mangoAdapter.verify(req(abonent, 'call', unsigned), SECRET)).toEqual({
      ok: false,
      reason: 'missing',
    });
    const twice = `${mangoFormBody(abonent, KEY)}&json=%7B%7D`;
    expect(mangoAdapter.verify(req(abonent, 'call', twice), 'no-colon')).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });
});

/** The real authenticator over a directory with one Mango and one Twilio peer. */
describe('mango adapter behind the peer authenticator (unknown peers cost and answer the same)', () => {
  const directory = new PeerDirectory();
  const peerOf = (id: string, provider: DirectoryPeer['provider'], signingSecret: string): DirectoryPeer => ({
    id,
    name: id,
    kind: 'telephony',
    provider,
    scopes: ['telephony.*'],
    allowlist: new IpAllowlist([]),
    rateLimitPerMinute: null,
    status: 'active',
    timezone: null,
    allowUrlCredentials: false,
    signingSecret,
  });
  directory.replaceAll({
    peers: [
      peerOf('mg', 'mango', SECRET),
      peerOf('mg-broken', 'mango', 'no-colon'),
      peerOf('tw', 'twilio', 'twilio-token'),
    ],
    credentials: [],
  });
  const recorded: string[][] = [];
  const failures = { lockedFor: () => 0, record: (keys: string[]) => recorded.push(keys) };
  const auth = new PeerAuthenticator(
    directory,
    {} as never,
    failures as never,
    { checkAndRemember: () => false } as never,
    { warnDays: 14 },
  );
  const attempt = async (peerId: string, body = mangoFormBody(abonent, KEY)) => {
    const calls: string[] = [];
    try {
      await auth.bySignature(
        peerId,
        '203.0.113.9',
        'provider',
        (secret) => {
          calls.push(secret === SECRET ? 'real' : 'other');
          return mangoAdapter.verify(req(abonent, 'call', body), secret);
        },
        undefined,
        'mango',
      );
      return { peerId, verified: calls, code: 'OK' };
    } catch (err) {
      return { peerId, verified: calls, code: err instanceof AuthError ? err.code : String(err) };
    }
  };

  it('a signed request for an unknown peer or a twilio peer -> AUTH_SIGNATURE_INVALID after one full verify', async () => {
    const wrongSalt = mangoFormBody(abonent, { ...KEY, apiSalt: 'wrong' });
    expect(await attempt('mg')).toEqual({ peerId: 'mg', verified: ['real'], code: 'OK' });
    recorded.length = 0;
    expect([await attempt('mg', wrongSalt), await attempt('nobody'), await attempt('tw')]).toEqual([
      { peerId: 'mg', verified: ['real'], code: 'AUTH_SIGNATURE_INVALID' },
      { peerId: 'nobody', verified: ['other'], code: 'AUTH_SIGNATURE_INVALID' },
      { peerId: 'tw', verified: ['other'], code: 'AUTH_SIGNATURE_INVALID' },
    ]);
    // Each counts towards the lockout alike (per source, and the claimed peer's soft lock).
    expect(recorded.map((k) => k[2])).toEqual(['peer:mg', 'peer:nobody', 'peer:tw']);
  });

  it('an unsigned request -> AUTH_MISSING whether the peer is known, unknown or misconfigured', async () => {
    const unsigned = new URLSearchParams({ json: abonent }).toString();
    const codes = [];
    for (const id of ['mg', 'nobody', 'tw', 'mg-broken']) codes.push((await attempt(id, unsigned)).code);
    expect(codes).toEqual(['AUTH_MISSING', 'AUTH_MISSING', 'AUTH_MISSING', 'AUTH_MISSING']);
  });

  it('a signed request to a known peer whose secret is not key:salt -> an internal error naming the peer', async () => {
    const { code } = await attempt('mg-broken');
    expect(code).toMatch(/^Error: the signing secret of peer "mg-broken" cannot be used: .*vpbx_api_key/);
  });

  it('a verifier that throws on the throwaway secret still answers AUTH_SIGNATURE_INVALID', async () => {
    const throwing = () => {
      throw new Error('not my secret format');
    };
    await expect(
      auth.bySignature('nobody', '203.0.113.9', 'provider', throwing, undefined, 'mango'),
    ).rejects.toMatchObject({ code: 'AUTH_SIGNATURE_INVALID' });
  });
});

describe('mango adapter: events/call (real samples)', () => {
  it('Appeared at an employee (abonent sample) -> ringing on extension 103 from the IVR leg', () => {
    expect(toEvents(abonent)).toEqual([
      {
        type: 'telephony.call.ringing',
        idempotencyKey: 'mango:MToxMDE1OTY4MDoyMjE6Mjg2NTY1MzY4:ringing:1',
        payload: {
          provider: 'mango',
          providerCallId: 'MToxMDE1OTY4MDoyMjE6Mjg2NTY1MzY4',
          linkedId: 'MTI4OTY2MjMzMTk=',
          parentCallId: 'MToxMDE1OTY4MDoyMjE6Mjg2NTY1MzQyOjE=',
          sequence: 1,
          direction: 'inbound',
          from: '78442297678',
          to: 'sip:user3@vpbx400210093.mangosip.ru',
          line: '84951111111',
          extension: '103',
          occurredAt: '2021-10-18T12:55:40.000Z',
        },
      },
    ]);
  });

  it('Appeared in the IVR (ivr sample) -> started', () => {
    const [started] = toEvents(ivr);
    expect(started.type).toBe('telephony.call.started');
    expect(started.payload).toEqual({
      provider: 'mango',
      providerCallId: 'MToxMDA3MTYxNToxNjE6Nzc2MTY1NjA4OjE=',
      linkedId: 'MzQ1Mzc1MzUxMzoxNjE=',
      sequence: 1,
      direction: 'inbound',
      from: '79997356761',
      to: '74994509495',
      line: '74994509495',
      startedAt: '2017-12-19T18:23:06.000Z',
      occurredAt: '2017-12-19T18:23:06.000Z',
    });
  });

  it('Connected -> answered, Disconnected -> ended with the reason, OnHold -> nothing', () => {
    const [answered] = toEvents(variant({ call_state: 'Connected', seq: 2, timestamp: 1634561750 }));
    expect(answered).toMatchObject({
      type: 'telephony.call.answered',
      payload: { answeredAt: '2021-10-18T12:55:50.000Z' },
    });
    const [ended] = toEvents(variant({ call_state: 'Disconnected', seq: 3, timestamp: '1634561800' }));
    expect(ended.type).toBe('telephony.call.ended');
    expect(ended.payload).toMatchObject({
      endedAt: '2021-10-18T12:56:40.000Z',
      hangupCause: '1121',
      sequence: 3,
    });
    expect(toEvents(variant({ call_state: 'OnHold' }))).toEqual([]);
  });

  it('a transferred leg -> transferred; an employee calling out -> outbound', () => {
    const [t] = toEvents(variant({ transfer: 'blind', seq: 4 }));
    expect(t.type).toBe('telephony.call.transferred');
    const out = JSON.stringify({
      ...JSON.parse(ivr),
      location: 'abonent',
      from: { number: 'sip:user1@x', extension: '101' },
      to: { number: '79990001122', line_number: '74994509495' },
    });
    const [ringing] = toEvents(out);
    expect(ringing.payload).toMatchObject({ direction: 'outbound', extension: '101', from: 'sip:user1@x' });
  });

  it('rejects a body without json, bad JSON and unknown states; ignores other Mango events', () => {
    expect(() => mangoAdapter.toEvents(req('', 'call', 'vpbx_api_key=k&sign=s'), peer)).toThrow(
      ContractViolation,
    );
    expect(() => toEvents('{not json')).toThrow(ContractViolation);
    expect(() => toEvents(variant({ call_state: 'Exploded' }))).toThrow(ContractViolation);
    expect(toEvents('{"seq":1}', 'dtmf')).toEqual([]);
  });
});

describe('mango adapter: the event from the gateway sub-path', () => {
  const at = (subPath: string, url = 'https://gw.example/v1/providers/mango/events') => ({
    ...req(abonent),
    url,
    subPath,
  });

  it('reads the event name from subPath (events/<name>) rather than the URL', () => {
    expect(mangoAdapter.toEvents(at('events/call'), peer)[0].type).toBe('telephony.call.ringing');
    expect(mangoAdapter.toEvents(at('events/call/'), peer)).toHaveLength(1);
    expect(mangoAdapter.toEvents(at('events/record/added'), peer)).toEqual([]);
  });

  it('refuses a sub-path that is not events/<name>, even when the URL ends like one', () => {
    for (const subPath of ['', 'call', 'x/events/call', 'events/']) {
      expect(() =>
        mangoAdapter.toEvents(at(subPath, 'https://gw/v1/providers/mango/p/x/events/call'), peer),
      ).toThrow(ContractViolation);
    }
  });

  it('ignores unknown fields of the event JSON', () => {
    const extra = variant({ some_future_field: { nested: [1, 2] }, dct: { type: 0 } });
    expect(toEvents(extra)[0].type).toBe('telephony.call.ringing');
  });
});

describe('mango adapter: events/summary', () => {
  // Field names from the Mango VPBX API documentation (no real summary sample in the shared fixtures).
  const summary = {
    entry_id: 'MTI4OTY2MjMzMTk=',
    call_direction: 1,
    from: { number: '78442297678' },
    to: { extension: '103', number: 'sip:user3@vpbx400210093.mangosip.ru' },
    line_number: '84951111111',
    create_time: 1634561740,
    forward_time: 1634561741,
    talk_time: 1634561750,
    end_time: 1634561800,
    entry_result: 1,
    disconnect_reason: 1110,
    some_future_field: true,
  };

  it('-> completed CDR with UTC times and billable seconds', () => {
    expect(toEvents(JSON.stringify(summary), 'summary')).toEqual([
      {
        type: 'telephony.call.completed',
        idempotencyKey: 'mango:MTI4OTY2MjMzMTk=:cdr',
        payload: {
          provider: 'mango',
          providerCallId: 'MTI4OTY2MjMzMTk=',
          linkedId: 'MTI4OTY2MjMzMTk=',
          direction: 'inbound',
          from: '78442297678',
          to: 'sip:user3@vpbx400210093.mangosip.ru',
          line: '84951111111',
          extension: '103',
          startedAt: '2021-10-18T12:55:40.000Z',
          answeredAt: '2021-10-18T12:55:50.000Z',
          endedAt: '2021-10-18T12:56:40.000Z',
          disposition: 'answered',
          durationSeconds: 60,
          billSeconds: 50,
          hangupCause: '1110',
        },
      },
    ]);
  });

  it('an unanswered inbound entry (talk_time 0, numbers as strings) is missed, with no answer time', () => {
    const missed = {
      ...summary,
      entry_result: '0',
      talk_time: '0',
      create_time: '1634561740',
      end_time: '1634561770',
    };
    const [cdr] = toEvents(JSON.stringify(missed), 'summary');
    expect(cdr.payload).toMatchObject({ disposition: 'missed', durationSeconds: 30, billSeconds: 0 });
    expect(cdr.payload).not.toHaveProperty('answeredAt');
  });

  it('rejects an unknown call_direction', () => {
    expect(() => toEvents(JSON.stringify({ ...summary, call_direction: 7 }), 'summary')).toThrow(
      ContractViolation,
    );
  });
});

/**
 * Issue 13: every call outcome Mango documents, with the fields it leaves empty or out in that outcome.
 * Accepted where Mango legitimately sends it; refused only where nothing names the called party.
 */
describe('mango adapter: documented-optional fields per call outcome', () => {
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(ContractViolation);
      return (e as ContractViolation).errors.map((x) => `${x.field}:${x.rule}`);
    }
    throw new Error('expected a refusal');
  };

  const base = {
    entry_id: 'RW50cnkx',
    call_direction: 1,
    from: { number: '79123456789' },
    line_number: '74951234567',
    create_time: 1634561740,
    forward_time: 0,
    talk_time: 0,
    end_time: 1634561760,
    entry_result: 0,
    disconnect_reason: 1110,
  };
  const summaries: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    [
      'IVR hang-up: `to` is {} -> the line is the called party',
      { to: {} },
      { to: '74951234567', disposition: 'missed' },
    ],
    ['`to` absent altogether', {}, { to: '74951234567', disposition: 'missed' }],
    [
      'queue timeout: forwarded, nobody answered, `to` holds only the group',
      { forward_time: 1634561745, to: { acd_group: '1' } },
      { to: '74951234567', disposition: 'missed', billSeconds: 0 },
    ],
    ['a withheld caller: `from` is {}', { from: {}, to: {} }, { from: '', to: '74951234567' }],
    [
      'answered by an employee known by extension only',
      { to: { extension: '103' }, talk_time: 1634561750, entry_result: 1 },
      { to: '103', extension: '103', disposition: 'answered', billSeconds: 10 },
    ],
    [
      'busy outbound: the employee has an extension and no number',
      { call_direction: 2, from: { extension: '101' }, to: { number: '79123456789' } },
      { from: '101', to: '79123456789', extension: '101', disposition: 'no-answer' },
    ],
    [
      'internal: both sides are extensions',
      { call_direction: 0, from: { extension: '101' }, to: { extension: '102' }, line_number: '' },
      { direction: 'internal', from: '101', to: '102', disposition: 'no-answer' },
    ],
  ];

  it.each(summaries)('events/summary, %s: accepted', (_name, over, expected) => {
    const [cdr] = toEvents(JSON.stringify({ ...base, ...over }), 'summary');
    expect(cdr.payload).toMatchObject(expected);
  });

  it('events/summary naming no called party at all (no to, no line) is refused', () => {
    expect(
      refusal(() =>
        toEvents(JSON.stringify({ ...base, call_direction: 2, to: {}, line_number: '' }), 'summary'),
      ),
    ).toEqual(['json.to.number:isNotEmpty']);
  });

  const call = {
    entry_id: 'RW50cnkx',
    call_id: 'Q2FsbDE=',
    timestamp: 1634561741,
    seq: 1,
    call_state: 'Appeared',
    location: 'ivr',
    from: { number: '79123456789' },
    to: { number: '74951234567', line_number: '74951234567' },
  };
  const calls: Array<[string, Record<string, unknown>, string, Record<string, unknown>]> = [
    [
      'hang-up in the IVR: Disconnected with only the line in `to`',
      { call_state: 'Disconnected', seq: 3, to: { line_number: '74951234567' }, disconnect_reason: 1110 },
      'telephony.call.ended',
      { to: '74951234567', line: '74951234567' },
    ],
    [
      'waiting in a queue: Appeared with the group and line only',
      { location: 'queue', to: { acd_group: '1', line_number: '74951234567' } },
      'telephony.call.started',
      { to: '74951234567' },
    ],
    ['a withheld caller: `from` is {}', { from: {} }, 'telephony.call.started', { from: '' }],
    [
      'an employee rung by extension (no number)',
      { location: 'abonent', to: { extension: '103', line_number: '74951234567' } },
      'telephony.call.ringing',
      { to: '103', extension: '103' },
    ],
  ];

  it.each(calls)('events/call, %s: accepted', (_name, over, type, expected) => {
    const [event] = toEvents(JSON.stringify({ ...call, ...over }));
    expect(event.type).toBe(type);
    expect(event.payload).toMatchObject(expected);
  });

  it('events/call naming no called party at all is refused', () => {
    expect(refusal(() => toEvents(JSON.stringify({ ...call, to: {} })))).toEqual([
      'json.to.number:isNotEmpty',
    ]);
  });
});
