// One fuzz case = one HTTP request, a pure function of (seed, index) and the run's peers: which endpoint,
// which shape of bad input (mutated valid body, random body, huge body, odd method, raw framing, header
// abuse), which body and content type, and valid or invalid credentials.
import { caseSeed, Rng } from './prng.mjs';
import { buildTargets, CDR_CSV, foreignSample, JSON_TYPE } from './targets.mjs';
import {
  clone,
  deepNesting,
  deletePath,
  encodeForm,
  formPairs,
  getPath,
  hugeArray,
  paths,
  pct,
  randomForm,
  randomJson,
  randomXml,
  Raw,
  setKey,
  setPath,
  toJson,
  weirdKey,
  weirdNumber,
  weirdString,
  wrongType,
} from './values.mjs';

export const SHAPES = [
  [44, 'mutated'],
  [20, 'random'],
  [4, 'huge'],
  [10, 'method'],
  [9, 'raw'],
  [13, 'headers'],
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=ISO-8859-1',
  'application/json; charset="utf-8"; boundary=x',
  'application/json;;',
  'application/json, text/plain',
  'APPLICATION/JSON',
  ' application/json',
  'application/jsonp',
  'application/json-patch+json',
  'application/vnd.api+json',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=koi8-r',
  'multipart/form-data',
  'multipart/form-data; boundary=----fz',
  'text/csv',
  'text/plain',
  'text/plain; charset=utf-8',
  'text/xml',
  'application/xml',
  'application/octet-stream',
  'application/x-ndjson',
  '*/*',
  'x',
  '',
  'application/',
  '/json',
  'text/html; charset=\u00e9',
  'application/json; charset=utf-8; charset=latin1',
];

const HTTP_METHODS = [
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'SEARCH',
  'PURGE',
  'REPORT',
  'QUERY',
  'MERGE',
  'M-SEARCH',
  'NOTIFY',
  'SUBSCRIBE',
  'LINK',
  'ACL',
  'BIND',
];
const RAW_METHODS = [
  'FOO',
  'BREW',
  'post',
  'Post',
  'P0ST',
  'POST\u0000',
  'GETT',
  'CONNECT',
  'PRI',
  'X'.repeat(100),
  'HTTP/1.1',
  '',
];

/** Latin-1 without CR/LF/controls: what Node's HTTP client lets through in a header value. */
const headerSafe = (s) => String(s).replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

/** Turns Raw into its text (for encoders that take plain values). */
function plain(v) {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) setKey(o, k, plain(v[k]));
    return o;
  }
  return v;
}

function mutateGeneric(rng, tree) {
  const all = paths(tree);
  const op = rng.pick(['set', 'set', 'delete', 'add', 'wrongType']);
  if (op === 'add' || !all.length) {
    const objects = [
      [],
      ...all.filter((p) => {
        const v = getPath(tree, p);
        return v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw);
      }),
    ];
    const at = rng.pick(objects);
    const obj = at.length ? getPath(tree, at) : tree;
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) setKey(obj, weirdKey(rng), randomJson(rng, 2));
    return;
  }
  const p = rng.pick(all);
  if (op === 'delete') return deletePath(tree, p);
  if (op === 'wrongType') return setPath(tree, p, wrongType(rng, getPath(tree, p)));
  setPath(
    tree,
    p,
    rng.weighted([
      [5, () => weirdString(rng)],
      [3, () => weirdNumber(rng)],
      [2, () => randomJson(rng, 1)],
      [1, () => deepNesting(rng, rng.pick([10, 100, 1000, 20_000]))],
      [1, () => hugeArray(rng, rng.pick([1000, 10_000, 100_000]))],
    ])(),
  );
}

function corruptBytes(rng, buf) {
  const at = buf.length ? rng.int(0, buf.length - 1) : 0;
  switch (rng.int(0, 6)) {
    case 0:
      return buf.subarray(0, at); // truncated
    case 1:
      return Buffer.concat([
        buf.subarray(0, at),
        Buffer.from(
          rng.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]),
        ),
        buf.subarray(at),
      ]);
    case 2: {
      const b = Buffer.from(buf);
      if (b.length) b[at] = rng.int(0, 255);
      return b;
    }
    case 3:
      return Buffer.concat([buf.subarray(0, at), Buffer.from([0]), buf.subarray(at)]);
    case 4:
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf]); // BOM
    case 5:
      return Buffer.concat([
        buf,
        Buffer.from(rng.pick(['garbage', '}', ']]]', '\u0000', '{"extra":1}', '\n\n\n'])),
      ]);
    default:
      return Buffer.concat([Buffer.from(rng.pick([' \n\t', '\u00a0', ")]}'\n"])), buf]);
  }
}

/** Everything one run's cases need; built once. */
export function caseContext({ gatewayUrl, peers, sig, bodyLimit = 1_048_576 }) {
  const targets = buildTargets({ peers, sig });
  return { gatewayUrl, peers, sig, bodyLimit, targets, port: Number(new URL(gatewayUrl).port) };
}

/**
 * Known-nasty inputs, sent first in every run (so even the quick variant covers each bug class found so far):
 * otherwise-valid bodies with exactly one defect, validly authenticated so validation is reached.
 */
const ORDERS = '/v1/website/orders';
const EVENTS = '/v1/telephony/events';
const CDR = '/v1/telephony/cdr';
const deepArray = (n) => new Raw(`${'['.repeat(n)}1${']'.repeat(n)}`);
const deepObject = (n) => new Raw(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
const withKey = (key, value) => (t) => (setKey(t, key, value), t);
export const CORPUS = [
  ...[ORDERS, EVENTS, CDR].flatMap((ep) => [
    { ep, note: 'deep array', body: withKey('x_deep', deepArray(50_000)) },
    { ep, note: 'deep object', body: withKey('x_deep', deepObject(20_000)) },
    { ep, note: 'nested "constructor" key', body: withKey('x', { constructor: 1 }) },
    { ep, note: 'unknown field "constructor"', body: withKey('constructor', 'x') },
    { ep, note: 'unknown field "valueOf"', body: withKey('valueOf', 1) },
  ]),
  {
    ep: ORDERS,
    note: 'lone surrogate in email',
    body: (t) => ((t.customer.email = 'a\uD800@example.com'), t),
  },
  { ep: ORDERS, note: 'items of nested arrays', body: withKey('items', [[[]]]) },
  { ep: EVENTS, note: '__proto__ key', raw: '{"type":"started","__proto__":{"polluted":1}}' },
  ...['woocommerce', 'shopify', 'asterisk', 'bitrix24'].map((ep) => ({
    ep,
    note: 'deep array (signed)',
    body: withKey('x_deep', deepArray(50_000)),
  })),
  { ep: ORDERS, note: 'Expect: x', body: withKey('x_bad', 1), headers: { expect: 'x' } },
  { ep: CDR, note: 'CONNECT', method: 'CONNECT', transport: 'raw' },
  { ep: ORDERS, note: 'bad percent-encoding in the path', body: withKey('x_bad', 1), path: (p) => `${p}%zz` },
  {
    ep: 'woocommerce',
    note: '150-character peer id',
    body: withKey('x_bad', 1),
    path: (p) => p.replace('fz-woo', 'w'.repeat(150)),
  },
];

function corpusCase(ctx, rng, index) {
  const entry = CORPUS[index];
  const target = ctx.targets.find((t) => t.name.includes(entry.ep));
  const req = {
    index,
    endpoint: target.name,
    shape: 'corpus',
    transport: entry.transport ?? 'http',
    method: entry.method ?? 'POST',
    path: entry.path ? entry.path(target.path) : target.path,
    headers: { ...(target.headers ?? {}), 'content-type': JSON_TYPE, ...(entry.headers ?? {}) },
    body: Buffer.alloc(0),
    gatewayUrl: ctx.gatewayUrl,
    auth: '',
    note: `corpus: ${entry.note}`,
    expectResponse: true,
    authValid: true,
  };
  if (entry.body || entry.raw) {
    const tree = target.sample(rng);
    // Providers ignore unknown fields: their bodies get a certain defect as well, so nothing is accepted.
    if (target.kind === 'provider') target.breakers[0](tree, rng, req);
    req.body = Buffer.from(entry.raw ?? toJson(entry.body(tree)));
  }
  req.auth = target.encode === 'bitrix24' ? 'in-body' : target.auth(rng, req);
  if (req.transport === 'raw') rawFraming(rng, ctx, req);
  return req;
}

export function makeCase(ctx, seed, index) {
  const rng = new Rng(caseSeed(seed, index));
  if (index < CORPUS.length) return corpusCase(ctx, rng, index);
  const target = rng.weighted(ctx.targets.map((t) => [t.weight, t]));
  const shape = rng.weighted(SHAPES);
  const req = {
    index,
    endpoint: target.name,
    shape,
    transport: 'http',
    method: 'POST',
    path: target.path,
    headers: { ...(target.headers ?? {}) },
    body: Buffer.alloc(0),
    gatewayUrl: ctx.gatewayUrl,
    auth: '',
    note: '',
    expectResponse: true,
  };

  let invented = false;
  if (shape === 'method') {
    invented = rng.chance(0.3);
    req.method = invented ? rng.pick(RAW_METHODS) : rng.pick(HTTP_METHODS);
    if (invented) req.transport = 'raw';
    if (target.provider === 'zadarma' && req.method === 'GET' && rng.chance(0.5)) {
      req.path += `?zd_echo=${pct(rng.chance(0.5) ? weirdString(rng) : rng.chars(8))}`;
      req.note = 'zd_echo handshake';
    }
  }
  if (rng.chance(0.1)) varyPath(rng, req);

  // A rotate that parses is a real rotation: the throwaway peer's token only goes with bodies that cannot.
  const rotate = target.kind === 'rotate';
  const validAuth =
    rotate && (invented || shape === 'raw' || shape === 'headers')
      ? false
      : rng.chance(rotate ? 0.5 : shape === 'method' ? 0.5 : 0.65);
  const bodyMode =
    shape === 'random'
      ? 'random'
      : shape === 'huge'
        ? 'huge'
        : shape === 'method' && rng.chance(0.5)
          ? 'none'
          : 'mutated';
  buildBody(rng, ctx, target, req, bodyMode, validAuth);

  if (shape === 'headers') abuseHeaders(rng, req);
  if (shape === 'raw') req.transport = 'raw';
  if (req.transport === 'raw') rawFraming(rng, ctx, req);

  if (rotate && req.authValid && !rotateSafe(req, ctx)) {
    for (const h of ['authorization', 'x-api-key']) delete req.headers[h];
    req.path = req.path.replace(/[?&]login=[^#]*/, '');
    req.headers.authorization = `Bearer sbp_${rng.chars(12)}_${rng.chars(38)}`;
    req.authValid = false;
    req.auth = 'bad:forced (rotate body would parse)';
  }
  return req;
}

function varyPath(rng, req) {
  const v = rng.pick([
    'slash',
    'double',
    'extra',
    'case',
    'pct',
    'badpct',
    'nul',
    'dots',
    'query',
    'longquery',
    'fragment',
    'unicode',
  ]);
  const [p, q = ''] = req.path.split('?');
  const query = q ? `?${q}` : '';
  if (v === 'slash') req.path = `${p}/${query}`;
  if (v === 'double') req.path = `${p.replace('/v1/', '//v1//')}${query}`;
  if (v === 'extra')
    req.path = `${p}/${rng.pick(['extra', '..', '%2e%2e', 'events/call', 'a/b/c/d'])}${query}`;
  if (v === 'case') req.path = `${p.toUpperCase()}${query}`;
  if (v === 'pct') req.path = `${p.replace('v1', '%76%31')}${query}`;
  if (v === 'badpct') req.path = `${p}${rng.pick(['%', '%zz', '%e0%a4%a', '%ff'])}${query}`;
  if (v === 'nul') req.path = `${p}%00${query}`;
  if (v === 'dots') req.path = `/v1/../v1/./${p.slice(4)}${query}`;
  if (v === 'query')
    req.path = `${req.path}${q ? '&' : '?'}${rng.pick(['a=%zz', '__proto__[x]=1', 'constructor[prototype][x]=1', 'a[]=1&a[]=2', 'a=1&a=2', '=&=&', 'login=&password=', 'bodySHA256=00', 'zd_echo=1'])}`;
  if (v === 'longquery') req.path = `${req.path}${q ? '&' : '?'}q=${'a'.repeat(rng.pick([2000, 8000]))}`;
  if (v === 'fragment') req.path = `${req.path}#frag`;
  if (v === 'unicode') req.path = `${p}/${pct(rng.pick(['пир', '👍', '\u202e', 'ü']))}${query}`;
  req.note = `${req.note} path:${v}`.trim();
}

/** Body, content type and credentials (signatures cover the final bytes, so credentials come last). */
function buildBody(rng, ctx, target, req, mode, validAuth) {
  let contentType;
  let raw = null; // bytes, when not encoded from a tree
  let tree = null;
  let textBody = null;

  if (mode === 'none') {
    req.body = Buffer.alloc(0);
  } else if (mode === 'mutated' || mode === 'huge') {
    // Free mutations first, breakers last: a later free mutation could undo a breaker (re-type a field).
    tree = target.sample(rng);
    for (
      let n = rng.weighted([
        [3, 0],
        [3, 1],
        [2, 2],
        [1, 3],
      ]);
      n > 0;
      n--
    )
      mutateGeneric(rng, tree);
    if (mode === 'huge') padTree(rng, ctx, target, tree, req);
    for (let n = rng.int(1, 2); n > 0; n--) {
      let out;
      try {
        out = rng.pick(target.breakers)(tree, rng, req);
      } catch {
        out = target.breakers[0](tree, rng, req); // a breaker needing what an earlier one removed
      }
      if (out && typeof out === 'object' && out.csv) textBody = out;
    }
  } else {
    const kind = rng.pick([
      'json',
      'json',
      'scalar',
      'tricky',
      'foreign',
      'xml',
      'form',
      'text',
      'binary',
      'empty',
      'multipart',
    ]);
    req.note = `${req.note} random:${kind}`.trim();
    if (kind === 'json') tree = randomJson(rng);
    if (kind === 'foreign') tree = foreignSample(rng, target.name);
    if (kind === 'scalar')
      raw = rng.pick(['null', 'true', '1e309', '"x"', '[]', '{}', '-0', '""', '[{}]', '{"":""}', '0']);
    if (kind === 'tricky')
      raw = rng.pick([
        '{"a":1,"a":2}',
        '{"__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
        '{"__proto__":null}',
        "{'a':1}",
        '{a:1}',
        '{"a":1,}',
        '{"a":1}garbage',
        '{"a":1}{"b":2}',
        '/*c*/{}',
        '{"a":NaN}',
        '{"a":Infinity}',
        '{"a":undefined}',
        '{"a":0x10}',
        '{"a":"\\ud800"}',
        '{"a":"\\u0000"}',
        '{"a":"\\x41"}',
        `{"a":"${'\\'.repeat(1001)}"}`,
        '{"a":01}',
        '{"a":.5}',
        '{"a":+1}',
        '{"a":1e}',
        '[',
        '{',
        '"',
        '{"a":"b',
        '\u0000',
        '{"a":1}\u0000',
      ]);
    const typed = {
      xml: () => [randomXml(rng), rng.pick(['application/xml', 'text/xml', 'application/soap+xml'])],
      form: () => [randomForm(rng), 'application/x-www-form-urlencoded'],
      text: () => [
        rng.chance(0.5) ? weirdString(rng) : `${CDR_CSV('1').slice(0, rng.int(0, 200))}\n,,,\n"unterminated`,
        rng.pick(['text/plain', 'text/csv']),
      ],
      binary: () => [rng.bytes(rng.int(1, 4096)), 'application/octet-stream'],
      empty: () => ['', undefined],
      multipart: () => [
        `------fz\r\nContent-Disposition: form-data; name="a"\r\n\r\n${weirdString(rng)}\r\n------fz--\r\n`,
        'multipart/form-data; boundary=----fz',
      ],
    }[kind];
    if (typed) [raw, contentType] = typed();
  }

  // Native encoding of a tree.
  if (tree !== null && raw === null) {
    const form = target.encode === 'form' || (target.encode === 'bitrix24' && rng.chance(0.4) && isObj(tree));
    if (textBody) [raw, contentType] = [textBody.csv, 'text/csv'];
    else if (form) {
      raw =
        target.encode === 'bitrix24' ? bitrixForm(ctx, tree) : encodeForm(rng, formPairs(rng, plain(tree)));
      contentType = 'application/x-www-form-urlencoded';
    } else if (target.encode === 'asterisk' && rng.chance(0.3))
      [raw, contentType] = [toJson([tree]), JSON_TYPE];
    else [raw, contentType] = [toJson(tree), JSON_TYPE];
  }
  if (target.encode === 'bitrix24' && tree !== null && isObj(tree) && !validAuth) {
    // Invalid credentials here are a wrong application token in the body: re-encode with one.
    const t = clone(tree);
    const way = rng.pick(['wrong', 'missing', 'type']);
    if (way === 'wrong') t.auth = { ...(isObj(t.auth) ? t.auth : {}), application_token: rng.chars(32) };
    if (way === 'missing') delete t.auth;
    if (way === 'type') t.auth = rng.pick(['x', 5, [], { application_token: 5 }]);
    raw = contentType === 'application/x-www-form-urlencoded' ? bitrixForm(ctx, t) : toJson(t);
    req.auth = `bad:${way}`;
  }
  let body = Buffer.isBuffer(raw) ? raw : Buffer.from(raw ?? '', 'utf8');
  if (mode !== 'none' && target.encode !== 'mango' && rng.chance(0.08)) {
    body = corruptBytes(rng, body);
    req.note = `${req.note} corrupted`.trim();
  }

  if (target.encode === 'mango' && mode !== 'none') {
    // The Mango signature is inside the body: a form of vpbx_api_key, sign and the JSON.
    let json = body.toString('utf8');
    if (rng.chance(0.08)) json = corruptBytes(rng, Buffer.from(json)).toString('utf8');
    const [apiKey, apiSalt] = ctx.peers.mango.signingSecret.split(':');
    const way = validAuth ? 'valid' : rng.pick(['none', 'wrong-sign', 'wrong-key', 'wrong-peer']);
    const key = way === 'wrong-key' ? 'otherkey' : apiKey;
    const salt = way === 'wrong-sign' ? 'othersalt' : apiSalt;
    body = Buffer.from(
      way === 'none' ? `json=${pct(json)}` : ctx.sig.mangoFormBody(json, { apiKey: key, apiSalt: salt }),
    );
    if (way === 'wrong-peer')
      req.path = req.path.replace('/fz-mg', rng.pick(['/fz-nobody', '/fz-tw', '/fz-mg-x']));
    contentType = 'application/x-www-form-urlencoded';
    req.auth = way;
  }

  req.body = body;
  if (mode !== 'none') {
    const ct = rng.chance(0.15) ? rng.pick(CONTENT_TYPES) : contentType;
    if (ct !== undefined && !rng.chance(0.03)) req.headers['content-type'] = ct;
  }
  req.authValid = validAuth;
  if (target.encode === 'mango' || target.encode === 'bitrix24') {
    if (!req.auth) req.auth = validAuth ? 'in-body' : 'in-body-bad';
  } else if (validAuth) req.auth = target.auth(rng, req);
  else req.auth = `bad:${target.badAuth(rng, req)}`;
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw);

function bitrixForm(ctx, tree) {
  try {
    return ctx.sig.buildPhpForm(plain(tree));
  } catch {
    return new URLSearchParams({ json: toJson(tree) }).toString();
  }
}

/** Grows a (broken) tree to about a chosen size around the body limit. */
function padTree(rng, ctx, target, tree, req) {
  const L = ctx.bodyLimit;
  const size = rng.pick([L - 64, L - 1, L, L + 1, L + 1024, 2 * L, 3 * L + 7, 100_000]);
  const how = rng.pick(['string', 'string', 'array', 'deep', 'keys']);
  req.note = `${req.note} huge:${how}:${size}`.trim();
  const base = Buffer.byteLength(toJson(tree));
  const room = Math.max(16, size - base - 20);
  const where = isObj(tree) ? tree : null;
  if (!where) return;
  const key =
    target.kind === 'provider'
      ? rng.pick(['note', 'x_pad', Object.keys(tree)[0] ?? 'x'])
      : rng.pick(['deliveryAddress', 'x_pad', 'from', 'providerCallId']);
  if (how === 'string') setKey(where, key, 'x'.repeat(room));
  if (how === 'array') setKey(where, key, hugeArray(rng, room));
  if (how === 'deep') setKey(where, key, deepNesting(rng, Math.floor(room / 7)));
  if (how === 'keys') {
    const parts = [];
    let len = 2;
    for (let i = 0; len < room; i++) {
      const part = `"k${i}":${i}`;
      parts.push(part);
      len += part.length + 1;
    }
    setKey(where, key, new Raw(`{${parts.join(',')}}`));
  }
}

function abuseHeaders(rng, req) {
  const ops = [];
  for (let n = rng.int(1, 3); n > 0; n--) {
    const op = rng.pick([
      'many',
      'big',
      'dup-auth',
      'content-type',
      'idempotency',
      'request-id',
      'host',
      'forwarded',
      'accept',
      'encoding',
      'expect',
      'chunked',
      'webhook',
      'cookie',
      'misc',
    ]);
    ops.push(op);
    const h = req.headers;
    if (op === 'many')
      for (let i = rng.int(50, 400); i > 0; i--) h[`x-fz-${i}`] = headerSafe(weirdString(rng)).slice(0, 40);
    if (op === 'big')
      h[rng.pick(['x-big', 'user-agent', 'cookie', 'referer'])] = 'b'.repeat(
        rng.pick([4000, 8000, 12_000, 15_500]),
      );
    if (op === 'dup-auth') {
      const garbage = `Bearer sbp_${rng.chars(12)}_${rng.chars(38)}`;
      h.authorization = h.authorization
        ? rng.chance(0.5)
          ? [h.authorization, garbage]
          : [garbage, h.authorization]
        : [garbage, 'Basic !!!'];
    }
    if (op === 'content-type') h['content-type'] = headerSafe(rng.pick(CONTENT_TYPES));
    if (op === 'idempotency')
      h['idempotency-key'] = rng.pick([
        '',
        ' ',
        'x'.repeat(201),
        'a b',
        '\t',
        'cl\u00e9',
        "'; DROP TABLE deals; --",
        'x'.repeat(200),
      ]);
    if (op === 'request-id')
      h[rng.pick(['x-request-id', 'x-correlation-id'])] = headerSafe(
        rng.pick(['', 'x'.repeat(5000), '../../etc', weirdString(rng), '\u00ff\u00fe']),
      );
    if (op === 'host')
      h.host = rng.pick([
        '',
        'evil.example',
        'a'.repeat(300),
        '[::1',
        'localhost:99999',
        '127.0.0.1:0',
        'x y',
        'h\u00e9',
      ]);
    if (op === 'forwarded') {
      h['x-forwarded-for'] = rng.pick([
        'garbage',
        '1.2.3.4, 5.6.7.8',
        '::ffff:1.2.3.4',
        '999.999.999.999',
        '',
      ]);
      h['x-forwarded-proto'] = rng.pick(['https', 'gopher', '']);
      h['x-forwarded-host'] = rng.pick(['evil.example', '', 'a:b:c']);
      h.forwarded = 'for=unknown;proto=https;host=evil';
    }
    if (op === 'accept')
      h.accept = rng.pick(['application/xml', '*/*;q=abc', 'text/html', '', 'application/problem+json;q=0']);
    if (op === 'encoding')
      h['content-encoding'] = rng.pick(['gzip', 'deflate', 'br', 'x-unknown', 'gzip, gzip']);
    if (op === 'expect') h.expect = rng.pick(['100-continue', '200-ok', 'x']);
    if (op === 'chunked') h['transfer-encoding'] = 'chunked';
    if (op === 'webhook') {
      h['webhook-signature'] = rng.pick(['v1,AAAA', '', 'x'.repeat(2000)]);
      h['webhook-id'] = rng.pick(['', 'msg_x']);
      h['webhook-timestamp'] = rng.pick(['', 'abc', '1e309', '-0']);
      if (rng.chance(0.5)) h['x-peer-id'] = rng.pick(['', 'fz-shop', 'fz-nobody', 'x'.repeat(500)]);
    }
    if (op === 'cookie') h.cookie = rng.pick(['a=b; a=c', '=;=;', `session=${'x'.repeat(3000)}`]);
    if (op === 'misc') {
      h.range = 'bytes=0-1';
      h['if-none-match'] = '*';
      h['max-forwards'] = '0';
      h.te = 'trailers';
      h.upgrade = rng.pick(['websocket', 'h2c']);
    }
  }
  req.note = `${req.note} headers:${ops.join(',')}`.trim();
}

/**
 * Raw request bytes for what Node's HTTP client will not send: invented methods, broken framing,
 * mismatched Content-Length, bad chunking, header lines the parser must refuse, non-Latin-1 bytes.
 */
function rawFraming(rng, ctx, req) {
  const variant =
    req.shape === 'method' || req.shape === 'corpus'
      ? 'plain'
      : rng.pick([
          'cl-more',
          'cl-less',
          'cl-bad',
          'cl-dup',
          'te-bad',
          'te-unterminated',
          'te-and-cl',
          'line-garbage',
          'header-garbage',
          'header-utf8',
          'header-huge',
          'headers-many',
          'http10',
          'pipelined',
          'absolute',
          'bare-lf',
          'long-url',
        ]);
  const body = req.body;
  const headerLines = [];
  let host = `127.0.0.1:${ctx.port}`;
  for (const [k, v] of Object.entries(req.headers)) {
    if (k === 'host') {
      host = String(v);
      continue;
    }
    for (const one of Array.isArray(v) ? v : [v]) headerLines.push(`${k}: ${one}`);
  }
  let requestLine = `${req.method} ${req.path} HTTP/1.1`;
  let framing = [`Content-Length: ${body.length}`];
  let tail = body;
  let pre = [];
  switch (variant) {
    case 'cl-more':
      framing = [`Content-Length: ${body.length + rng.int(1, 5000)}`];
      req.expectResponse = false; // the body never completes: closing without an answer is fine
      break;
    case 'cl-less':
      framing = [`Content-Length: ${Math.max(0, body.length - rng.int(1, Math.max(1, body.length)))}`];
      break;
    case 'cl-bad':
      framing = [
        `Content-Length: ${rng.pick(['abc', '-1', '1, 2', ' 10 ', '99999999999999999999', '0x10', '+5', '1e3', ''])}`,
      ];
      break;
    case 'cl-dup':
      framing = [`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`];
      break;
    case 'te-bad': {
      framing = ['Transfer-Encoding: chunked'];
      tail = Buffer.concat([
        Buffer.from(`${rng.pick(['zz', '-1', 'ffffffffffffffffff', '5;ext="', '0x5', ' 5'])}\r\n`),
        body.subarray(0, 5),
        Buffer.from('\r\n0\r\n\r\n'),
      ]);
      break;
    }
    case 'te-unterminated':
      framing = ['Transfer-Encoding: chunked'];
      tail = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]);
      req.expectResponse = false;
      break;
    case 'te-and-cl':
      framing = ['Transfer-Encoding: chunked', `Content-Length: ${body.length}`];
      tail = Buffer.concat([
        Buffer.from(`${body.length.toString(16)}\r\n`),
        body,
        Buffer.from('\r\n0\r\n\r\n'),
      ]);
      break;
    case 'line-garbage':
      requestLine = rng.pick([
        `${req.method} ${req.path} HTTP/9.9`,
        `${req.method}  ${req.path}  HTTP/1.1`,
        `${req.method} ${req.path}`,
        `${req.method} ${req.path} HTTP/1.1 extra`,
        `${req.method} ${req.path.replace('/v1', '/v1 x')} HTTP/1.1`,
        '\u0000\u0001\u0002',
        `${req.method} * HTTP/1.1`,
      ]);
      break;
    case 'header-garbage':
      pre = [
        rng.pick([
          'Foo bar',
          'Host : x',
          ' continued: fold',
          'X(Y): 1',
          ': empty-name',
          'X-A: a\u0000b',
          'X-Fold: a\r\n b',
          'X-\u007f: 1',
          'Content-Type : application/json',
        ]),
      ];
      break;
    case 'header-utf8':
      pre = [
        `${rng.pick(['Authorization: Bearer ', 'X-Peer-Id: ', 'Idempotency-Key: ', 'X-Request-Id: ', 'Content-Type: application/json; charset='])}${rng.pick(['ключ', '👍', '\u202e', 'ü'])}`,
      ];
      break;
    case 'header-huge':
      pre = [`X-Huge: ${'h'.repeat(rng.pick([17_000, 70_000]))}`];
      break;
    case 'headers-many':
      pre = Array.from({ length: rng.pick([500, 3000]) }, (_, i) => `X-M${i}: ${i}`);
      break;
    case 'http10':
      requestLine = `${req.method} ${req.path} HTTP/1.0`;
      host = rng.chance(0.5) ? '' : host;
      break;
    case 'pipelined':
      tail = Buffer.concat([
        body,
        Buffer.from(`${req.method} ${req.path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\n\r\n{`),
      ]);
      break;
    case 'absolute':
      requestLine = `${req.method} ${rng.pick(['http://evil.example', 'https://127.0.0.1:1', 'http://[::1]'])}${req.path} HTTP/1.1`;
      break;
    case 'bare-lf':
      req.bareLf = true;
      break;
    case 'long-url':
      requestLine = `${req.method} ${req.path}${req.path.includes('?') ? '&' : '?'}u=${'u'.repeat(rng.pick([9000, 20_000, 100_000]))} HTTP/1.1`;
      break;
  }
  const eol = req.bareLf ? '\n' : '\r\n';
  const lines = [
    requestLine,
    ...(host ? [`Host: ${host}`] : []),
    ...pre,
    ...headerLines,
    ...framing,
    'Connection: close',
  ];
  req.raw = Buffer.concat([Buffer.from(lines.join(eol) + eol + eol, 'utf8'), tail]);
  req.transport = 'raw';
  req.note = `${req.note} raw:${variant}`.trim();
}

/** Content types that never reach the rotate handler (no parser on peer routes: 415). */
const UNPARSED_TYPES = new Set([
  'application/xml',
  'text/xml',
  'application/octet-stream',
  'text/csv',
  'text/plain',
  'application/soap+xml',
]);

/** True when a rotate request with a valid token certainly fails before the handler runs. */
function rotateSafe(req, ctx) {
  if (req.method.toUpperCase() !== 'POST') return true;
  if (req.transport === 'raw') return false;
  const ct = req.headers['content-type'];
  if (typeof ct !== 'string' || !req.body.length) return false;
  if (req.body.length > ctx.bodyLimit) return true;
  if (UNPARSED_TYPES.has(ct.trim().toLowerCase())) return true;
  if (!/json/i.test(ct) || /form|urlencoded/i.test(ct)) return false;
  try {
    JSON.parse(req.body.toString('utf8').replace(/^\uFEFF/, ''));
    return false;
  } catch {
    return true;
  }
}

/** A short, printable description of a case for reports. */
export function describeCase(req) {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    const s = Array.isArray(v) ? v.join(' | ') : String(v);
    headers[k] = s.length > 120 ? `${s.slice(0, 120)}…(${s.length} chars)` : s;
  }
  const prefix = (b) => {
    const s = b.subarray(0, 300).toString('utf8');
    return JSON.stringify(s).slice(1, -1) + (b.length > 300 ? `…(${b.length} bytes)` : '');
  };
  return {
    index: req.index,
    endpoint: req.endpoint,
    shape: req.shape,
    note: req.note,
    auth: req.auth,
    transport: req.transport,
    method: req.method,
    path: req.path.length > 300 ? `${req.path.slice(0, 300)}…(${req.path.length} chars)` : req.path,
    headers:
      Object.keys(headers).length > 25
        ? {
            ...Object.fromEntries(Object.entries(headers).slice(0, 25)),
            '…': `${Object.keys(headers).length} headers`,
          }
        : headers,
    bodyBytes: req.body.length,
    bodyPrefix: prefix(req.body),
    ...(req.raw ? { rawPrefix: prefix(req.raw) } : {}),
  };
}
