// Bad values: strings (unicode, injection, sizes), numbers JSON.stringify cannot write, keys, random JSON,
// XML and form bodies. JSON trees are plain values plus `Raw` (verbatim JSON text: 1e309, -0, deep nesting).

/** Verbatim JSON text inside a tree (numbers JSON.stringify would rewrite, pre-built deep nesting). */
export class Raw {
  constructor(text) {
    this.text = text;
  }
}

export const UNICODE = [
  'Ünïcödé ñ',
  '日本語テキスト',
  '👍🏽👨‍👩‍👧‍👦🏳️‍🌈',
  '\u202Egnp.exe', // RTL override
  'مرحبا بالعالم',
  'שלום',
  '\u200B\u200C\u200D\u2060\uFEFF', // zero-width
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗͓',
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  'a\uD83Db',
  '\uDBFF\uDFFF',
  '\u0000',
  'abc\u0000def',
  '\u0001\u0002\u001f\u007f\u0080\u009f',
  '\u2028\u2029',
  '\uFFFE\uFFFF',
  '\r\n\t\b\f\v',
  '\\u0000',
  '%00',
  '𝕳𝖊𝖑𝖑𝖔',
  '\u0301\u0301\u0301',
];

export const INJECTION = [
  "' OR '1'='1",
  "'; DROP TABLE deals; --",
  '1); DELETE FROM contacts; --',
  '" OR pg_sleep(5) --',
  "'||(SELECT version())||'",
  '$1',
  '\\',
  "\\'",
  '{"$gt": ""}',
  '{"$ne": null}',
  '$where',
  'this.constructor.constructor("return process")().exit()',
  '{{7*7}}',
  '${7*7}',
  '<%= 7*7 %>',
  '#{7*7}',
  '{{constructor.constructor("return 1")()}}',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  'file:///etc/passwd',
  'javascript:alert(1)',
  '${jndi:ldap://127.0.0.1/a}',
  '() { :; }; echo pwned',
  '; ls -la',
  '|| id',
  '%s%s%s%s%n',
  '%x%x%x',
  '\r\nX-Injected: 1',
  'sbp_',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e309',
  '0x1F',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
];

export const LOOKALIKES = [
  '',
  ' ',
  '   ',
  '0',
  '-1',
  '2026-02-30T25:61:61Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-11-20T10:00:00',
  '2026-11-20 10:00:00',
  '1763640000',
  'yesterday',
  '+',
  '+00000000000',
  '+7912345678901234567890123',
  'a@b',
  '@@',
  'x@y.z\u0000',
  'RUB ',
  'rub',
  'XXXX',
  'inbound ',
  'INBOUND',
];

export const NUMBERS = [
  '1e309',
  '-1e309',
  '-0',
  '0',
  '-1',
  '1.5',
  '1e-400',
  '4.9e-324',
  '1e-7',
  '-2.5e-8',
  '1.7976931348623157e308',
  '123456789012345678901234567890',
  '9007199254740993',
  '-9007199254740993',
  '1E2',
  '0.1e1',
  '1.23456789',
  '1000001',
  '10000000000001',
  '2147483648',
  '-2147483649',
];

export const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  'login',
  'password',
  'type',
  '$where',
  '$gt',
  'a.b',
  'a[b]',
  '0',
  '-1',
  '\u0000',
  '\uD800',
  '👍',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isAdmin',
  'peerId',
];

/** A string of about `n` bytes (UTF-8). */
export function sized(rng, n) {
  const unit = rng.pick(['x', 'я', '日', '👍', 'ab\u0000', '<&>"']);
  const per = Buffer.byteLength(unit);
  return unit.repeat(Math.max(1, Math.floor(n / per)));
}

export function weirdString(rng) {
  return rng.weighted([
    [4, () => rng.pick(UNICODE)],
    [4, () => rng.pick(INJECTION)],
    [3, () => rng.pick(LOOKALIKES)],
    [2, () => sized(rng, rng.pick([101, 201, 501, 2001, 5000, 65_536]))],
    [1, () => rng.pick(UNICODE) + rng.pick(INJECTION) + rng.pick(UNICODE)],
    [1, () => rng.chars(rng.int(1, 40), '\u0000\u0001\t\n\r "\'\\/<>&%$#{}[]:;,.?*+=|~`^@!') + 'x'],
  ])();
}

export const weirdNumber = (rng) => new Raw(rng.pick(NUMBERS));

export function weirdKey(rng) {
  return rng.weighted([
    [5, () => rng.pick(KEYS)],
    [2, () => weirdString(rng).slice(0, 300)],
    [1, () => 'k'.repeat(rng.pick([1000, 10_000, 100_000]))],
    [2, () => `x_${rng.chars(6)}`],
  ])();
}

/** Defines a key as an own property, even `__proto__` (assignment would set the prototype). */
export function setKey(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Nested arrays/objects `depth` deep around `inner`, as verbatim text (no recursion anywhere). */
export function deepNesting(rng, depth) {
  const kind = rng.pick(['array', 'object', 'mixed']);
  if (kind === 'array') return new Raw('['.repeat(depth) + '1' + ']'.repeat(depth));
  if (kind === 'object') return new Raw('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
  return new Raw('[{"a":'.repeat(depth) + '1' + '}]'.repeat(depth));
}

/** An array of about `bytes` bytes of one repeated item. */
export function hugeArray(rng, bytes) {
  const item = rng.pick(['1', '"x"', '{}', '[]', 'null', '{"sku":"a","name":"b","quantity":1,"price":1}']);
  return new Raw(`[${new Array(Math.max(1, Math.floor(bytes / (item.length + 1)))).fill(item).join(',')}]`);
}

/** A value of a JSON type other than `value`'s; never null/undefined (optional fields accept those). */
export function wrongType(rng, value) {
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const options = [
    ['string', () => weirdString(rng)],
    ['number', () => weirdNumber(rng)],
    ['boolean', () => rng.chance(0.5)],
    ['array', () => rng.pick([[], [weirdString(rng)], [1, 2, 3], [[[]]]])],
    ['object', () => rng.pick([{}, { a: 1 }, { $gt: '' }, { $ne: null }])],
  ].filter(([t]) => t !== type && !(t === 'number' && value instanceof Raw));
  return rng.pick(options)[1]();
}

export function randomJson(rng, depth = 0) {
  const leaf = depth > 4 || rng.chance(0.35 + depth * 0.1);
  if (leaf) {
    return rng.weighted([
      [1, () => null],
      [1, () => rng.chance(0.5)],
      [3, () => weirdNumber(rng)],
      [5, () => weirdString(rng)],
    ])();
  }
  if (rng.chance(0.05)) return hugeArray(rng, rng.int(200, 30_000));
  if (rng.chance(0.03)) return deepNesting(rng, rng.pick([50, 500, 5000]));
  if (rng.chance(0.4)) return Array.from({ length: rng.int(0, 5) }, () => randomJson(rng, depth + 1));
  const obj = {};
  for (let i = rng.int(0, 6); i > 0; i--) setKey(obj, weirdKey(rng), randomJson(rng, depth + 1));
  return obj;
}

/** JSON text of a tree; Raw is written verbatim. Iterative enough for our trees (Raw carries deep ones). */
export function toJson(value) {
  if (value instanceof Raw) return value.text;
  if (value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((k) => `${JSON.stringify(k)}:${toJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A deep copy of a tree (keeps Raw and own `__proto__` keys). */
export function clone(value) {
  if (value instanceof Raw) return value;
  if (Array.isArray(value)) return value.map(clone);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value)) setKey(out, k, clone(value[k]));
    return out;
  }
  return value;
}

/** Every path ([key, key, ...]) in a tree, containers included; Raw is a leaf. */
export function paths(value, prefix = [], out = []) {
  if (value instanceof Raw || value === null || typeof value !== 'object') return out;
  for (const k of Object.keys(value)) {
    const p = [...prefix, Array.isArray(value) ? Number(k) : k];
    out.push(p);
    if (out.length < 2000) paths(value[k], p, out);
  }
  return out;
}

export function getPath(tree, path) {
  return path.reduce((v, k) => (v == null ? undefined : v[k]), tree);
}

export function setPath(tree, path, value) {
  const parent = getPath(tree, path.slice(0, -1));
  if (parent !== null && typeof parent === 'object' && !(parent instanceof Raw)) {
    setKey(parent, path[path.length - 1], value);
  }
}

export function deletePath(tree, path) {
  const parent = getPath(tree, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object' || parent instanceof Raw) return;
  if (Array.isArray(parent)) parent.splice(path[path.length - 1], 1);
  else delete parent[path[path.length - 1]];
}

/** Flat form fields of a tree: `a[b][0]=` PHP style, or dotted, or JSON-in-a-field. */
export function formPairs(rng, tree, prefix = '') {
  const style = rng.pick(['php', 'php', 'dots']);
  const out = [];
  const walk = (v, name) => {
    if (v instanceof Raw) out.push([name, v.text]);
    else if (Array.isArray(v))
      v.forEach((x, i) => walk(x, style === 'php' ? `${name}[${i}]` : `${name}.${i}`));
    else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v))
        walk(v[k], name ? (style === 'php' ? `${name}[${k}]` : `${name}.${k}`) : k);
    } else out.push([name, v === null ? '' : String(v)]);
  };
  walk(tree, prefix);
  return out;
}

/** encodeURIComponent that also takes lone surrogates (as U+FFFD, like a UTF-8 encoder). */
export function pct(s) {
  return encodeURIComponent(String(s).toWellFormed());
}

/** Percent-encodes like a browser form, or not quite: broken escapes, raw bytes, `+`, repeats. */
export function encodeForm(rng, pairs) {
  const enc = (s) => pct(s).replace(/%20/g, '+');
  const parts = pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`);
  if (rng.chance(0.3) && parts.length) parts.push(rng.pick(parts)); // repeated key
  if (rng.chance(0.3)) {
    parts.push(
      rng.pick([
        '%',
        '%zz=1',
        'a=%E0%A4%A',
        'a=%ff%fe',
        '%00=%00',
        '=',
        '&&&',
        'a[=1',
        'a]]=1',
        'a[b][c][d][e][f][g][h][i][j][k]=1',
        `${'a['.repeat(200)}=1`,
        'a[]=1&a[]=2&a[x]=3',
        '__proto__[polluted]=1',
        'constructor[prototype][polluted]=1',
        'a=1;b=2',
        '+=+',
      ]),
    );
  }
  if (rng.chance(0.1)) return parts.join(rng.pick([';', '&amp;', '\n']));
  return parts.join('&');
}

export function randomForm(rng) {
  const pairs = [];
  for (let i = rng.int(0, 8); i > 0; i--) pairs.push([weirdKey(rng).slice(0, 200), weirdString(rng)]);
  return encodeForm(rng, pairs);
}

export function randomXml(rng) {
  return rng.pick([
    () => '<?xml version="1.0"?><order><id>1</id><total>2001</total></order>',
    () =>
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
    () => '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    () => `<a>${'<b>'.repeat(2000)}${'</b>'.repeat(2000)}</a>`,
    () => `<?xml version="1.0" encoding="UTF-16"?><a x="${weirdString(rng).replace(/"/g, '')}"/>`,
    () => `<methodCall><methodName>${weirdString(rng)}</methodName></methodCall>`,
    () =>
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>',
    () => '<a><b></a>',
    () => '<',
  ])();
}
