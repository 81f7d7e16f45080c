// The peer endpoints under fuzz: for each, a valid sample (never sent as is), "breakers" that each make the
// body certainly invalid for that endpoint (so no fuzz request may change the CRM), its native encoding, and
// how a request is authenticated validly (so validation is reached) or not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clone,
  deletePath,
  pct,
  Raw,
  setKey,
  weirdNumber,
  weirdString,
  wrongType,
  paths,
  getPath,
} from './values.mjs';

const ROOT = join(import.meta.dirname, '../..');
const fixture = (p) => readFileSync(join(ROOT, 'test/fixtures', p), 'utf8');

const ORDER = JSON.parse(fixture('website/order.sample.json'));
const WOO = JSON.parse(fixture('providers/website/woocommerce.order.created.json.txt'));
const SHOPIFY = JSON.parse(fixture('providers/website/shopify.orders-create.json.txt'));
const MANGO_IVR = JSON.parse(fixture('providers/telephony/mango/events-call.appeared.ivr.json.txt'));
const MANGO_ABONENT = JSON.parse(fixture('providers/telephony/mango/events-call.appeared.abonent.json.txt'));
const B24 = JSON.parse(
  fixture('providers/telephony/bitrix24/ONEXTERNALCALLSTART.event-handler-body.json.txt'),
);

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const b64 = (s) => Buffer.from(s).toString('base64');
const id = (rng, p) => `${p}-${rng.chars(10)}`;

/** Breakers shared by the strict contract endpoints (unknown fields and wrong types are refused there). */
function strictBreakers(required) {
  return [
    (t, rng) => deletePath(t, [rng.pick(required)]),
    (t, rng) => {
      // A wrong (never null) type somewhere: every field of these contracts is typed.
      const p = rng.pick(paths(t));
      const v = getPath(t, p);
      if (Array.isArray(getPath(t, p.slice(0, -1))) && v !== null && typeof v === 'object') {
        setKeyAt(t, p, rng.pick(['x', 1, true, [], [[]], [{}]])); // an array element that is no object
      } else setKeyAt(t, p, wrongType(rng, v));
    },
    (t, rng) => {
      const objects = [[], ...paths(t).filter((p) => isPlainObject(getPath(t, p)))];
      const at = rng.pick(objects);
      const target = at.length ? getPath(t, at) : t;
      setKey(
        target,
        rng.pick(['coupon', 'x_fuzz', '__proto__', 'constructor', 'isAdmin', '$where', '']),
        weirdString(rng),
      );
    },
    (t, rng) => deletePath(t, [rng.pick(required)]) || deletePath(t, [rng.pick(required)]),
  ];
}
const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw);
function setKeyAt(tree, path, value) {
  const parent = path.length > 1 ? getPath(tree, path.slice(0, -1)) : tree;
  if (parent && typeof parent === 'object' && !(parent instanceof Raw))
    setKey(parent, path[path.length - 1], value);
}

function validOrder(rng) {
  const n = rng.chars(8, '0123456789');
  return {
    ...clone(ORDER),
    externalId: `FZ-${n}`,
    customer: { name: 'Fuzz Customer', phone: `+7912${n.slice(0, 7)}`, email: `fz${n}@example.com` },
  };
}

function validCallBase(rng) {
  return {
    provider: rng.pick(['generic', 'asterisk', 'my-pbx']),
    providerCallId: id(rng, 'fz'),
    direction: rng.pick(['inbound', 'outbound', 'internal']),
    from: '+79120001122',
    to: '+74950000001',
    line: '+74950000001',
    extension: '101',
  };
}

function twilioParams(rng) {
  const sid = `CA${rng.chars(32, '0123456789abcdef')}`;
  return {
    AccountSid: 'AC0123456789abcdef0123456789abcdef',
    ApiVersion: '2010-04-01',
    CallSid: sid,
    CallStatus: rng.pick(['ringing', 'in-progress', 'completed', 'initiated']),
    Direction: rng.pick(['inbound', 'outbound-api', 'outbound-dial']),
    From: '+79123450001',
    To: '+74951234567',
    Caller: '+79123450001',
    Called: '+74951234567',
    SequenceNumber: '0',
    Timestamp: 'Fri, 20 Nov 2026 09:00:00 +0000',
    CallDuration: '60',
  };
}

function zadarmaFields(rng) {
  const start = {
    event: 'NOTIFY_START',
    call_start: '2026-11-20 12:00:00',
    pbx_call_id: `in_${rng.chars(12)}`,
    caller_id: '+79261110001',
    called_did: '74951234567',
  };
  return rng.pick([
    start,
    { ...start, event: 'NOTIFY_INTERNAL', internal: '101' },
    {
      ...start,
      event: 'NOTIFY_END',
      internal: '101',
      duration: '30',
      disposition: 'answered',
      status_code: '16',
    },
    {
      event: 'NOTIFY_OUT_START',
      call_start: start.call_start,
      pbx_call_id: `out_${rng.chars(12)}`,
      internal: '101',
      destination: '+79261110002',
      caller_id: '74951234567',
    },
  ]);
}

function mangoCall(rng) {
  const leg = rng.chance(0.5) ? clone(MANGO_IVR) : clone(MANGO_ABONENT);
  return { ...leg, call_id: id(rng, 'mg'), entry_id: id(rng, 'entry'), timestamp: 1795651200, seq: 1 };
}

function mangoSummary(rng) {
  const ts = 1795651200;
  return {
    entry_id: id(rng, 'entry'),
    call_direction: 1,
    from: { number: '79161230001' },
    to: { extension: '103', number: 'sip:user3@vpbx400210093.mangosip.ru' },
    line_number: '74994509495',
    create_time: ts,
    forward_time: ts + 5,
    talk_time: ts + 12,
    end_time: ts + 72,
    entry_result: 1,
    disconnect_reason: 1110,
  };
}

const CDR_CSV = (uid) =>
  `"","+79031110098","101","from-trunk","+79031110098","PJSIP/trunk-00000061","PJSIP/101-00000062","Dial","PJSIP/101","2026-11-21 12:00:00","2026-11-21 12:00:05","2026-11-21 12:01:00",60,55,"ANSWERED","DOCUMENTATION","${uid}",""`;

function asteriskCdr(rng) {
  const uid = `17956512${rng.chars(2, '0123456789')}.${rng.int(1, 999)}`;
  const cdr = {
    accountcode: '',
    src: '+79031110001',
    dst: '101',
    dcontext: 'from-trunk',
    clid: '"+79031110001" <+79031110001>',
    channel: 'PJSIP/trunk-00000031',
    dstchannel: 'PJSIP/101-00000032',
    lastapp: 'Dial',
    lastdata: 'PJSIP/101,15',
    start: '2026-11-20 12:00:00',
    answer: '2026-11-20 12:00:05',
    end: '2026-11-20 12:01:00',
    duration: '60',
    billsec: '55',
    disposition: 'ANSWERED',
    amaflags: 'DOCUMENTATION',
    uniqueid: uid,
    userfield: '',
    linkedid: uid,
  };
  return rng.chance(0.5)
    ? cdr
    : {
        Event: 'Cdr',
        Source: cdr.src,
        Destination: cdr.dst,
        Channel: cdr.channel,
        DestinationChannel: cdr.dstchannel,
        StartTime: cdr.start,
        AnswerTime: cdr.answer,
        EndTime: cdr.end,
        Duration: cdr.duration,
        BillableSeconds: cdr.billsec,
        Disposition: cdr.disposition,
        UniqueID: uid,
        LinkedID: uid,
      };
}

const garbageTime = (rng) =>
  rng.pick(['yesterday', '2026-13-45 99:99:99', '2026-02-30T25:61:61', 'abc', '0', weirdString(rng)]);

/**
 * @param ctx { gatewayUrl, peers: { role: { id, token?, signingSecret? } }, sig: peer-auth signatures module }
 */
export function buildTargets({ peers, sig }) {
  const bearer = (p) => ({ authorization: `Bearer ${p.token}` });
  const sign = {
    woocommerce: (req, secret) => ({ 'x-wc-webhook-signature': sig.signWooCommerce(req.body, secret) }),
    shopify: (req, secret) => ({ 'x-shopify-hmac-sha256': sig.signShopify(req.body, secret) }),
    asterisk: (req, secret) => {
      const timestampSeconds = Math.floor(Date.now() / 1000);
      const parts = { method: req.method ?? 'POST', target: req.path, timestampSeconds, rawBody: req.body };
      return {
        'x-signature-timestamp': String(timestampSeconds),
        'x-signature': sig.signAsterisk(parts, secret),
      };
    },
    twilio: (req, secret, gatewayUrl) => {
      const params = new URLSearchParams(req.body.toString('utf8'));
      return { 'x-twilio-signature': sig.signTwilio(`${gatewayUrl}${req.path}`, params, secret) };
    },
    zadarma: (req, secret) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const names = sig.ZADARMA_SIGNED_FIELDS[form.get('event') ?? ''];
      const signed = names ? names.map((n) => form.get(n) ?? '').join('') : req.body.toString('utf8');
      return { signature: sig.signZadarma(signed, secret) };
    },
  };

  /** Credentials a generic peer presents validly (bearer mostly; each other way sometimes). */
  const peerAuth = (p, allowSignature) => (rng, req) => {
    const way = rng.weighted([
      [6, 'bearer'],
      [1, 'api-key'],
      [1, 'basic'],
      [1, 'login-query'],
      [allowSignature && p.signingSecret ? 1 : 0, 'signature'],
    ]);
    if (way === 'bearer') Object.assign(req.headers, bearer(p));
    if (way === 'api-key') req.headers['x-api-key'] = p.token;
    if (way === 'basic') req.headers.authorization = `Basic ${b64(`${p.id}:${p.token}`)}`;
    if (way === 'login-query')
      req.path += `${req.path.includes('?') ? '&' : '?'}login=${p.id}&password=${p.token}`;
    if (way === 'signature') {
      const msgId = `msg_${rng.chars(16)}`;
      const ts = Math.floor(Date.now() / 1000);
      req.headers['x-peer-id'] = p.id;
      req.headers['webhook-id'] = msgId;
      req.headers['webhook-timestamp'] = String(ts);
      req.headers['webhook-signature'] = sig.signStandardWebhook(
        msgId,
        ts,
        req.body.toString('utf8'),
        p.signingSecret,
      );
      req.signedAfter = true; // the signature covers the final body: nothing may change it after this
    }
    return way;
  };

  /** Wrong credentials for generic peer routes. */
  const badPeerAuth = (p) => (rng, req) => {
    const fake = `sbp_${rng.chars(12)}_${rng.chars(38)}`;
    const way = rng.pick([
      'none',
      'garbage-bearer',
      'fake-token',
      'token-typo',
      'basic-malformed',
      'basic-wrong',
      'basic-other-peer',
      'scheme',
      'api-key-garbage',
      'login-wrong',
      'signature-bad',
      'signature-no-peer',
      'huge-token',
    ]);
    const h = req.headers;
    if (way === 'garbage-bearer')
      h.authorization = `Bearer ${rng.pick(['', ' ', 'null', 'undefined', "' OR 1=1 --", weirdString(rng).replace(/[^\x20-\x7e]/g, '?')])}`;
    if (way === 'fake-token') h.authorization = `Bearer ${fake}`;
    if (way === 'token-typo')
      h.authorization = `Bearer ${p.token.slice(0, -1)}${p.token.endsWith('a') ? 'b' : 'a'}`;
    if (way === 'basic-malformed')
      h.authorization = rng.pick([
        'Basic',
        'Basic ',
        'Basic !!!',
        `Basic ${b64('nocolon')}`,
        `Basic ${b64(':')}`,
        'Basic ====',
        `Basic ${b64(`${p.id}:`)}`,
      ]);
    if (way === 'basic-wrong') h.authorization = `Basic ${b64(`${p.id}:${fake}`)}`;
    if (way === 'basic-other-peer') h.authorization = `Basic ${b64(`fz-nobody:${p.token}`)}`;
    if (way === 'scheme')
      h.authorization = rng.pick([
        `Token ${p.token}`,
        `Digest username="${p.id}"`,
        p.token,
        `Bearer${p.token}`,
        'Negotiate YII=',
      ]);
    if (way === 'api-key-garbage') h['x-api-key'] = rng.pick([fake, 'x', ' ', "'; DROP TABLE peers; --"]);
    if (way === 'login-wrong') req.path += `?login=${pct(p.id)}&password=${rng.pick(['', 'x', fake])}`;
    if (way === 'signature-bad') {
      h['x-peer-id'] = rng.pick([p.id, 'fz-nobody', '']);
      h['webhook-id'] = rng.pick(['msg_1', '', 'x'.repeat(300)]);
      h['webhook-timestamp'] = rng.pick([
        String(Math.floor(Date.now() / 1000)),
        'abc',
        '-1',
        '99999999999999999999',
        '',
      ]);
      h['webhook-signature'] = rng.pick([
        'v1,AAAA',
        'v1,',
        'garbage',
        `v1,${b64('x'.repeat(32))}`,
        'v1a,xx v1,yy',
      ]);
    }
    if (way === 'signature-no-peer') h['webhook-signature'] = 'v1,AAAA';
    if (way === 'huge-token') h.authorization = `Bearer ${'A'.repeat(rng.pick([1000, 8000, 14_000]))}`;
    return way;
  };

  /** Wrong credentials for provider routes: no, garbage or foreign signature; or a peer of another kind. */
  const badProviderAuth = (provider, header) => (rng, req) => {
    const way = rng.pick(['none', 'garbage', 'other-secret', 'wrong-peer', 'stale']);
    if (way === 'garbage')
      req.headers[header] = rng.pick([
        '',
        'x',
        'AAAA',
        'sha256=00',
        weirdString(rng)
          .replace(/[^\x20-\x7e]/g, '?')
          .slice(0, 200),
      ]);
    if (way === 'other-secret' || way === 'stale') {
      const signer = sign[provider];
      if (signer)
        Object.assign(
          req.headers,
          signer(
            way === 'stale' ? { ...req, body: Buffer.from('{}') } : req,
            'not-the-secret',
            req.gatewayUrl,
          ),
        );
    }
    if (way === 'wrong-peer') {
      req.path = req.path.replace(
        /^(\/v1\/providers\/[^/]+\/)[^/?]+/,
        `$1${pct(rng.pick(['fz-shop', 'fz-nobody', 'fz-pbx', 'fz-tw', 'fz-woo', '..', '%00', 'x'.repeat(300), 'пир']))}`,
      );
      const signer = sign[provider];
      if (signer)
        Object.assign(req.headers, signer(req, peers[provider]?.signingSecret ?? 'x', req.gatewayUrl));
    }
    return way;
  };

  const providerPath = (role, sub = '') => `/v1/providers/${role}/${peers[role].id}${sub}`;

  const targets = [
    {
      name: 'POST /v1/website/orders',
      path: '/v1/website/orders',
      kind: 'peer',
      weight: 3,
      sample: validOrder,
      breakers: [
        ...strictBreakers(['externalId', 'status', 'createdAt', 'customer', 'items', 'total', 'currency']),
        (t, rng) => (t.items[0].quantity = rng.pick([0, -1, 1.5, 1_000_001])),
        (t, rng) => (t.total = rng.pick([-1, new Raw('1e309'), new Raw('1.000001'), 1e13])),
        (t, rng) => (t.status = rng.pick(['NEW', 'deleted', '', 'new '])),
        (t) => (t.items = []),
        (t, rng) => (t.createdAt = garbageTime(rng)),
        (t, rng) => (t.externalId = 'x'.repeat(rng.pick([101, 5000]))),
        (t) => ((t.customer = {}), undefined),
        (t, rng) => (t.currency = rng.pick(['XXXX', 'RUBL', '', 'R$'])),
        (t, rng) => (t.deliveryAddress = `Moscow${rng.pick(['\u0000', 'x'.repeat(2001)])}`),
      ],
      encode: 'json',
      auth: peerAuth(peers.shop, true),
      badAuth: badPeerAuth(peers.shop),
    },
    {
      name: 'POST /v1/telephony/events',
      path: '/v1/telephony/events',
      kind: 'peer',
      weight: 2,
      sample: (rng) => ({
        type: rng.pick([
          'started',
          'ringing',
          'answered',
          'ended',
          'recording.ready',
          'telephony.call.started',
        ]),
        ...validCallBase(rng),
        occurredAt: '2026-11-23T10:00:00Z',
      }),
      breakers: [
        ...strictBreakers(['type', 'provider', 'providerCallId', 'direction', 'from', 'to', 'occurredAt']),
        (t, rng) =>
          (t.type = rng.pick(['completed', 'cdr', 'telephony.call.completed', 'exploded', '', 'STARTED'])),
        (t, rng) =>
          (t.occurredAt = rng.pick([
            '2026-11-23T10:00:00+03:00',
            '2026-11-23T10:00:00',
            '1763891200',
            garbageTime(rng),
          ])),
        (t, rng) => (t.direction = rng.pick(['sideways', 'INBOUND', ''])),
        (t, rng) => (t.provider = rng.pick(['Generic', '-x', 'a'.repeat(41), 'with space'])),
        (t, rng) =>
          (t.recordingUrl = rng.pick([
            'ftp://x/y',
            'javascript:alert(1)',
            'not a url',
            `https://x/${'a'.repeat(2001)}`,
          ])),
        (t, rng) => (t.durationSeconds = rng.pick([-1, 1.5, 10_000_001, new Raw('1e309')])),
        (t) => (t.providerCallId = ''),
      ],
      encode: 'json',
      auth: peerAuth(peers.pbx, false),
      badAuth: badPeerAuth(peers.pbx),
    },
    {
      name: 'POST /v1/telephony/cdr',
      path: '/v1/telephony/cdr',
      kind: 'peer',
      weight: 2,
      sample: (rng) => ({
        ...validCallBase(rng),
        startedAt: '2026-11-23T10:00:00Z',
        endedAt: '2026-11-23T10:01:00Z',
        disposition: rng.pick(['answered', 'missed', 'busy']),
        durationSeconds: 60,
        billSeconds: 50,
      }),
      breakers: [
        ...strictBreakers([
          'provider',
          'providerCallId',
          'direction',
          'from',
          'to',
          'startedAt',
          'disposition',
          'durationSeconds',
        ]),
        (t, rng) => (t.disposition = rng.pick(['ANSWERED', 'exploded', ''])),
        (t, rng) =>
          (t.startedAt = rng.pick(['1899-12-31T23:59:59Z', '2200-01-01T00:00:00Z', garbageTime(rng)])),
        (t, rng) => (t.billSeconds = rng.pick([-1, '50', 1e8])),
        (t) => (t.type = 'completed'),
      ],
      encode: 'json',
      auth: peerAuth(peers.pbx, false),
      badAuth: badPeerAuth(peers.pbx),
    },
    {
      // A valid rotate changes credentials: only bodies that fail parsing may carry the throwaway peer's token.
      name: 'POST /v1/credentials/rotate',
      path: '/v1/credentials/rotate',
      kind: 'rotate',
      weight: 1,
      sample: () => ({}),
      breakers: [(t, rng) => setKey(t, rng.pick(['reason', 'token']), weirdString(rng))],
      encode: 'json',
      auth: peerAuth(peers.rotate, false),
      badAuth: badPeerAuth(peers.rotate),
    },
    {
      name: 'POST /v1/providers/woocommerce',
      path: providerPath('woocommerce'),
      kind: 'provider',
      provider: 'woocommerce',
      weight: 1,
      sample: () => clone(WOO),
      headers: { 'x-wc-webhook-topic': 'order.created' },
      breakers: [
        (t) => delete t.id,
        (t, rng) => (t.id = rng.pick([-1, 0, 'abc', 1.5, new Raw('1e309'), new Raw('9007199254740993')])),
        (t) => delete t.status,
        (t, rng) => (t.status = rng.pick(['exploded', 'wc-processing', 'PROCESSING', 42])),
        (t) => delete t.date_created_gmt,
        (t, rng) => (t.date_created_gmt = garbageTime(rng)),
        (t) => (t.line_items = []),
        (t, rng) => (t.line_items[0].quantity = rng.pick([0, -1, 'x', 1.5])),
        (t, rng) => (t.total = rng.pick(['abc', '-5', '1e400', '1,000.00', '$10'])),
        (t) => ((t.billing = {}), (t.shipping = {})),
        (t, rng) => (t.currency = rng.pick(['ZZZZ', 'rub?', 'EURO', '12'])),
        (t, rng, req) =>
          (req.headers['x-wc-webhook-topic'] = rng.pick(['product.created', 'order', '', 'ORDER.CREATED'])),
        (t, rng, req) => delete req.headers['x-wc-webhook-topic'],
      ],
      encode: 'json',
      auth: (rng, req) => (
        Object.assign(req.headers, sign.woocommerce(req, peers.woocommerce.signingSecret)),
        'signature'
      ),
      badAuth: badProviderAuth('woocommerce', 'x-wc-webhook-signature'),
    },
    {
      name: 'POST /v1/providers/shopify',
      path: providerPath('shopify'),
      kind: 'provider',
      provider: 'shopify',
      weight: 1,
      sample: () => clone(SHOPIFY),
      headers: { 'x-shopify-topic': 'orders/create' },
      breakers: [
        (t) => (t.line_items = []),
        (t, rng) => (t.line_items[0].quantity = rng.pick([0, -1, 'x', 1.5])),
        (t, rng) => (t.created_at = garbageTime(rng)),
        (t) => delete t.created_at,
        (t, rng) => (t.total_price = rng.pick(['abc', '-5', '1e400', '1,000.00'])),
        (t, rng) => (t.currency = rng.pick(['ZZZZ', 'EURO', '12'])),
        (t, rng) => (t.financial_status = rng.pick(['exploded', 'PAID', 42])),
        (t) => {
          delete t.id;
          delete t.admin_graphql_api_id;
        },
        (t, rng, req) =>
          (req.headers['x-shopify-topic'] = rng.pick(['products/create', 'orders', '', 'ORDERS/CREATE'])),
        (t, rng, req) => delete req.headers['x-shopify-topic'],
      ],
      encode: 'json',
      auth: (rng, req) => (
        Object.assign(req.headers, sign.shopify(req, peers.shopify.signingSecret)),
        'signature'
      ),
      badAuth: badProviderAuth('shopify', 'x-shopify-hmac-sha256'),
    },
    {
      name: 'POST /v1/providers/twilio',
      path: providerPath('twilio'),
      kind: 'provider',
      provider: 'twilio',
      weight: 1,
      sample: twilioParams,
      breakers: [
        (t, rng) => (t.CallStatus = rng.pick(['exploded', 'COMPLETED', 'in progress'])),
        (t, rng) => (t.Direction = rng.pick(['sideways', 'INBOUND', 'outbound'])),
        (t) => delete t.CallSid,
        (t) => delete t.To,
        (t) => delete t.CallStatus,
        (t, rng) => (t.Timestamp = rng.pick(['not a date', 'Fri, 99 Nov 2026', '\u0000'])),
      ],
      encode: 'form',
      auth: (rng, req) => (
        Object.assign(req.headers, sign.twilio(req, peers.twilio.signingSecret, req.gatewayUrl)),
        'signature'
      ),
      badAuth: badProviderAuth('twilio', 'x-twilio-signature'),
    },
    {
      name: 'POST /v1/providers/zadarma',
      path: providerPath('zadarma'),
      kind: 'provider',
      provider: 'zadarma',
      weight: 1,
      sample: zadarmaFields,
      breakers: [
        (t, rng) => (t.call_start = garbageTime(rng)),
        (t) => delete t.pbx_call_id,
        (t) => delete t.call_start,
        (t) => {
          t.event = t.event.includes('OUT') ? 'NOTIFY_OUT_END' : 'NOTIFY_END';
          delete t.duration;
          delete t.disposition;
        },
      ],
      encode: 'form',
      auth: (rng, req) => (
        Object.assign(req.headers, sign.zadarma(req, peers.zadarma.signingSecret)),
        'signature'
      ),
      badAuth: badProviderAuth('zadarma', 'signature'),
    },
    {
      name: 'POST /v1/providers/mango events/call',
      path: providerPath('mango', '/events/call'),
      kind: 'provider',
      provider: 'mango',
      weight: 1,
      sample: mangoCall,
      breakers: [
        (t) => delete t.call_id,
        (t, rng) => (t.call_state = rng.pick(['Exploded', 'appeared', '', 7])),
        (t, rng) => (t.timestamp = rng.pick(['abc', -1, new Raw('1e309'), '2026-11-20'])),
        (t, rng) => (t.from = rng.pick(['79161230001', 7, []])),
        (t) => delete t.call_state,
      ],
      encode: 'mango',
      badAuth: mangoBadAuth,
    },
    {
      name: 'POST /v1/providers/mango events/summary',
      path: providerPath('mango', '/events/summary'),
      kind: 'provider',
      provider: 'mango',
      weight: 1,
      sample: mangoSummary,
      breakers: [
        (t) => delete t.entry_id,
        (t, rng) => (t.create_time = rng.pick(['abc', -1, new Raw('1e309')])),
        (t, rng) => (t.end_time = rng.pick(['abc', new Raw('1e309'), {}])),
        (t, rng) => (t.from = rng.pick(['79161230001', 7, []])),
        (t) => delete t.create_time,
      ],
      encode: 'mango',
      badAuth: mangoBadAuth,
    },
    {
      name: 'POST /v1/providers/asterisk',
      path: providerPath('asterisk'),
      kind: 'provider',
      provider: 'asterisk',
      weight: 1,
      sample: asteriskCdr,
      breakers: [
        (t) => {
          delete t.uniqueid;
          delete t.UniqueID;
        },
        (t, rng) => {
          if ('start' in t) t.start = garbageTime(rng);
          else t.StartTime = garbageTime(rng);
        },
        (t, rng) => (t.Event = rng.pick(['Hangup', 'cdr', 'CDR'])),
        // cdr_csv lines (Master.csv) instead of JSON: too few columns, or a start time that is none.
        (t, rng) => ({ csv: CDR_CSV('1795651200.1').split(',').slice(0, rng.int(1, 15)).join(',') }),
        (t, rng) => ({
          csv: CDR_CSV('1795651200.2').replace(
            '"2026-11-21 12:00:00"',
            rng.pick(['"yesterday"', '"2026-13-45 99:99:99"']),
          ),
        }),
        (t, rng) => {
          if ('disposition' in t) t.disposition = 'EXPLODED';
          else t.Disposition = rng.pick(['EXPLODED', '']);
          t.duration = t.Duration = '-5';
        },
      ],
      encode: 'asterisk',
      auth: (rng, req) => (
        Object.assign(req.headers, sign.asterisk(req, peers.asterisk.signingSecret)),
        'signature'
      ),
      badAuth: badProviderAuth('asterisk', 'x-signature'),
    },
    {
      name: 'POST /v1/providers/bitrix24',
      path: providerPath('bitrix24'),
      kind: 'provider',
      provider: 'bitrix24',
      weight: 1,
      sample: (rng) => ({
        ...clone(B24),
        data: { ...clone(B24.data), CALL_ID: `externalCall.${rng.chars(32)}.1795660000` },
      }),
      breakers: [
        (t, rng) => (t.event = rng.pick(['ONEXTERNALCALLEND', 'ONSOMETHING', '', 5])),
        (t) => delete t.data.CALL_ID,
        (t, rng) => (t.ts = rng.pick(['abc', new Raw('1e309'), -1, {}])),
        (t, rng) => (t.data = rng.pick(['x', 5, []])),
        (t) => delete t.event,
      ],
      encode: 'bitrix24',
      // The application token travels in the body: auth.application_token (kept by every breaker).
      auth: () => 'application-token',
      badAuth: () => 'in-body',
    },
  ];
  return targets;

  function mangoBadAuth(rng) {
    return rng.pick(['none', 'wrong-sign', 'wrong-key', 'wrong-peer']);
  }
}

/** Valid-looking bodies of other endpoints (mix-ups), never the target's own kind. */
export function foreignSample(rng, targetName) {
  const all = [
    ['website/orders', () => validOrder(rng)],
    ['woocommerce', () => clone(WOO)],
    ['shopify', () => clone(SHOPIFY)],
    ['bitrix24', () => clone(B24)],
    ['mango', () => mangoCall(rng)],
    ['asterisk', () => asteriskCdr(rng)],
    ['twilio', () => twilioParams(rng)],
  ].filter(([k]) => !targetName.includes(k));
  return rng.pick(all)[1]();
}

export { FORM, JSON_TYPE, CDR_CSV, weirdNumber };
