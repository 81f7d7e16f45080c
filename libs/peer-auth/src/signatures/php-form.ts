/** Value tree PHP builds from a form body: `a[b][]=1` -> { a: { b: ['1'] } }. */
export type PhpFormValue = string | PhpFormValue[] | { [key: string]: PhpFormValue };

const MAX_DEPTH = 32; // PHP's max_input_nesting_level is 64; deeper keys are dropped, as PHP does

class Bag {
  readonly entries = new Map<string, Bag | string>(); // a Map, so `__proto__` keys are plain data
  next = 0;
  set(key: string | null, value: Bag | string): void {
    const k = key ?? String(this.next);
    if (/^(0|[1-9]\d{0,15})$/.test(k)) this.next = Math.max(this.next, Number(k) + 1);
    this.entries.set(k, value);
  }
}

/** PHP urldecode: `+` is a space, invalid `%` sequences stay literal, bytes decode as UTF-8. */
function urldecode(s: string): string {
  const src = Buffer.from(s.replace(/\+/g, ' '), 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const hex = src[i] === 0x25 ? src.toString('latin1', i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else out[n++] = src[i];
  }
  return out.toString('utf8', 0, n);
}

/** `a[b][]` -> ['a', 'b', null]; null segment = append. A name with an unclosed `[` stays literal. */
function keyPath(name: string): (string | null)[] | null {
  const open = name.indexOf('[');
  if (open < 0) return name ? [name] : null;
  if (open === 0) return null; // PHP drops a variable without a base name
  const path: (string | null)[] = [name.slice(0, open)];
  let rest = name.slice(open);
  while (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return path.length === 1 ? [name] : path;
    path.push(close === 1 ? null : rest.slice(1, close));
    rest = rest.slice(close + 1);
  }
  return path;
}

function toValue(node: Bag | string): PhpFormValue {
  if (typeof node === 'string') return node;
  const keys = [...node.entries.keys()];
  if (keys.every((k, i) => k === String(i))) return keys.map((k) => toValue(node.entries.get(k)!));
  const out: { [key: string]: PhpFormValue } = {};
  for (const [k, v] of node.entries)
    Object.defineProperty(out, k, {
      value: toValue(v),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/**
 * Parses an `application/x-www-form-urlencoded` body the way PHP fills `$_POST`: bracketed names nest,
 * `[]` appends, a later duplicate overwrites. (PHP's `.`/space -> `_` renaming of top-level names is not done.)
 */
export function parsePhpForm(body: string): { [key: string]: PhpFormValue } {
  const root = new Bag();
  for (const pair of body.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const path = keyPath(urldecode(eq < 0 ? pair : pair.slice(0, eq)));
    if (!path || path.length > MAX_DEPTH) continue;
    const value = eq < 0 ? '' : urldecode(pair.slice(eq + 1));
    let bag = root;
    for (const seg of path.slice(0, -1)) {
      const existing = seg === null ? undefined : bag.entries.get(seg);
      const child = existing instanceof Bag ? existing : new Bag();
      if (child !== existing) bag.set(seg, child);
      bag = child;
    }
    bag.set(path[path.length - 1], value);
  }
  const top = toValue(root);
  return Array.isArray(top)
    ? Object.fromEntries(top.map((v, i) => [String(i), v]))
    : (top as { [key: string]: PhpFormValue });
}

/** Inverse of parsePhpForm (what PHP's http_build_query produces), for tests and peer simulators. */
export function buildPhpForm(value: Record<string, unknown>): string {
  const pairs: string[] = [];
  const walk = (v: unknown, name: string): void => {
    if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) walk(child, `${name}[${k}]`);
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') {
      pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(v))}`);
    } else if (typeof v === 'boolean') {
      pairs.push(`${encodeURIComponent(name)}=${v ? '1' : '0'}`); // as http_build_query
    }
  };
  for (const [k, v] of Object.entries(value)) walk(v, k);
  return pairs.join('&');
}
