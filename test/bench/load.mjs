// The bench's load generator, one interface over two tools: wrk (a C event loop, the cheapest on the cores the
// apps need; `apt-get install wrk`) when installed, autocannon (Node, in the bench's own process) otherwise or when
// asked (BENCH_GENERATOR=autocannon, `npm run bench -- --generator autocannon`). Every body is made from a template
// by a number unique in the run ({{n}}, zero-padded), so each order has its own idempotency key; the key also goes
// out as X-Request-Id, which the server echoes, and the keys answered 2xx come back as `acked` — the acknowledged
// set run.mjs checks against what was stored. wrk runs test/bench/load.lua; see there for how.
import autocannon from 'autocannon';
import { execFile, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PLACEHOLDER = '{{n}}';
const WRK_PATHS = ['/usr/bin/wrk', '/usr/local/bin/wrk'];
/** X-Request-Id values the apps accept as they are (libs/observability correlationIdFrom); others get a UUID. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Linux clock ticks per second (/proc/<pid>/stat), as run.mjs's procStats assumes. */
const CLK_TCK = 100;

/** The wrk binary, or null. */
export function wrkPath() {
  return WRK_PATHS.find((p) => existsSync(p)) ?? null;
}

/** 'wrk' or 'autocannon': `requested` (a flag or BENCH_GENERATOR) if given, else wrk when installed. */
export function pickGenerator(requested = process.env.BENCH_GENERATOR) {
  if (requested === 'autocannon') return 'autocannon';
  if (requested === 'wrk') {
    if (!wrkPath()) throw new Error('wrk asked for but not installed (apt-get install wrk)');
    return 'wrk';
  }
  if (requested) throw new Error(`unknown load generator ${requested} (wrk or autocannon)`);
  return wrkPath() ? 'wrk' : 'autocannon';
}

/** The generator as the report names it: `wrk 4.1.0 (debian/4.1.0-3+b2)`, `autocannon 9.0.0`. */
export function generatorVersion(generator) {
  if (generator === 'wrk') {
    const out = spawnSync(wrkPath(), ['-v'], { encoding: 'utf8' });
    const v = /^wrk (\S+)/m.exec(`${out.stdout}${out.stderr}`)?.[1] ?? '?';
    return `wrk ${/\d+\.\d+\.\d+/.exec(v)?.[0] ?? v}${v.includes('/') ? ` (${v})` : ''}`;
  }
  return `autocannon ${createRequire(import.meta.url)('autocannon/package.json').version}`;
}

/** Numbers handed out to bodies: one per run, shared by every load of the run, so no two requests share one. */
export function createNumbers(width = 7) {
  return { next: 0, width };
}

const fill = (template, n) => template.split(PLACEHOLDER).join(n);

/** A Lua string literal for any JS string (UTF-8 bytes; every byte outside printable ASCII as \ddd). */
export function luaString(s) {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    out +=
      b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c
        ? String.fromCharCode(b)
        : `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

const luaTable = (entries) => `{ ${entries.join(', ')} }`;

/** The `local cfg = {...}` chunk load.mjs puts before load.lua. */
export function wrkConfig({ method, path, headers, body, key, base, threads, width, out, items = null }) {
  return `local cfg = ${luaTable([
    `method = ${luaString(method)}`,
    `path = ${luaString(path)}`,
    `headers = ${luaTable(Object.entries(headers).map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`))}`,
    ...(items
      ? [`items = ${luaString(items)}`]
      : [
          `parts = ${luaTable(body.split(PLACEHOLDER).map(luaString))}`,
          `keyParts = ${luaTable(key.split(PLACEHOLDER).map(luaString))}`,
        ]),
    `base = ${base}`,
    `threads = ${threads}`,
    `width = ${width}`,
    `out = ${luaString(out)}`,
  ])}\n`;
}

/**
 * load.lua's report: a JSON line, then the acknowledged ids one a line. Returns the common result shape (see
 * `load`). Thread 0's `sent` counts one request more than went out: wrk calls request() once to check the script.
 * `sent` counts requests built, so when the time runs out it may exceed those written by up to one per connection.
 */
export function parseWrkReport(text) {
  const [head, ...rest] = text.split('\n');
  let r;
  try {
    r = JSON.parse(head);
  } catch {
    throw new Error(`wrk report: the first line is not JSON: ${head.slice(0, 200)}`);
  }
  const acked = rest.filter((l) => l.length > 0);
  const ok = r.threads.reduce((a, t) => a + t.ok, 0);
  const statuses = {};
  for (const t of r.threads)
    for (const [code, n] of Object.entries(t.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const ms = (us) => Math.round(us / 10) / 100;
  const latency = Object.fromEntries(Object.entries(r.latencyUs).map(([k, v]) => [k, ms(v)]));
  const sent = Math.max(0, r.threads.reduce((a, t) => a + t.sent, 0) - 1);
  const exhausted = r.threads.reduce((a, t) => a + (t.exhausted ?? 0), 0);
  return {
    generator: 'wrk',
    seconds: r.durationUs / 1e6,
    requests: { sent, total: r.requests },
    '2xx': ok,
    non2xx: r.requests - ok,
    statuses,
    errors: r.errors.connect + r.errors.read + r.errors.write,
    timeouts: r.errors.timeout,
    latency,
    acked,
    generatorCpuSeconds: r.cpuTicks >= 0 ? r.cpuTicks / CLK_TCK : null,
    ...(exhausted ? { exhausted } : {}),
    // How far the numbers went: thread t used base + i * threads + t for i < its sent.
    numbersUsed: Math.max(0, ...r.threads.map((t) => t.sent)) * r.threads.length,
  };
}

async function runWrk(opts, numbers) {
  const { url, method, headers, body, key, connections, duration, threads, timeoutSeconds } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'sb-wrk-'));
  const out = join(dir, 'report.txt');
  const script = join(dir, 'load.lua');
  const u = new URL(url);
  // Made beforehand: wrk's Lua cannot call back into this process. One `key<TAB>body` a line.
  const items = opts.items ? join(dir, 'items.txt') : null;
  if (items) {
    const lines = [];
    for (let i = 0; i < opts.itemsMax; i += 1) {
      const { key: k, body: b } = opts.items();
      lines.push(`${k}\t${b}\n`);
    }
    writeFileSync(items, lines.join(''));
  }
  await opts.onStart?.();
  writeFileSync(
    script,
    wrkConfig({
      method,
      path: u.pathname + u.search,
      headers,
      body,
      key,
      base: numbers.next,
      threads,
      width: numbers.width,
      out,
      items,
    }) + readFileSync(join(import.meta.dirname, 'load.lua'), 'utf8'),
  );
  const argv = [
    ...['-t', String(threads), '-c', String(connections), '-d', `${duration}s`],
    ...['--timeout', `${timeoutSeconds}s`, '-s', script, url],
  ];
  return new Promise((resolve, reject) =>
    execFile(wrkPath(), argv, { timeout: (duration + 60) * 1000 }, (err, stdout, stderr) => {
      try {
        if (err) throw new Error(`wrk failed: ${stderr || err.message}`);
        const result = parseWrkReport(readFileSync(out, 'utf8'));
        if (result.exhausted)
          throw new Error(
            `wrk: the ${opts.itemsMax} prepared bodies ran out (${result.exhausted} more asked for)`,
          );
        if (!items) numbers.next += result.numbersUsed;
        resolve(result);
      } catch (e) {
        reject(e);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );
}

async function runAutocannon(opts, numbers) {
  const { url, method, headers, body, key, connections, duration, amount, timeoutSeconds } = opts;
  await opts.onStart?.();
  const acked = [];
  let used = 0;
  const cpu0 = process.cpuUsage();
  const startedAt = Date.now();
  const instance = autocannon({
    url,
    method,
    headers,
    connections,
    timeout: timeoutSeconds,
    ...(amount ? { amount } : { duration }),
    requests: [
      {
        setupRequest: (req, context) => {
          if (opts.items) {
            const item = opts.items();
            context.key = item.key;
            return { ...req, body: item.body, headers: { ...req.headers, 'x-request-id': item.key } };
          }
          const n = String(numbers.next + used).padStart(numbers.width, '0');
          used += 1;
          context.key = fill(key, n);
          return { ...req, body: fill(body, n), headers: { ...req.headers, 'x-request-id': context.key } };
        },
        onResponse: (status, _body, context) => {
          if (status >= 200 && status <= 299) acked.push(context.key);
        },
      },
    ],
  });
  const done = instance.then((r) => {
    numbers.next += used;
    const cpu = process.cpuUsage(cpu0);
    const statuses = {};
    for (const [code, n] of Object.entries(r.statusCodeStats ?? {}))
      if (!code.startsWith('2')) statuses[code] = n.count;
    return {
      generator: 'autocannon',
      seconds: (Date.now() - startedAt) / 1000,
      requests: { sent: r.requests.sent, total: r['2xx'] + r.non2xx },
      '2xx': r['2xx'],
      non2xx: r.non2xx,
      statuses,
      errors: r.errors - r.timeouts,
      timeouts: r.timeouts,
      latency: {
        p50: r.latency.p50,
        p90: r.latency.p90,
        p97_5: r.latency.p97_5,
        p99: r.latency.p99,
        max: r.latency.max,
        mean: r.latency.average,
      },
      acked,
      // The bench's own process: autocannon and, between its requests, whatever else the bench does (little).
      generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  });
  return done;
}

/**
 * One load: `connections` for `duration` seconds (or `amount` requests: autocannon only, as wrk has no request
 * count; the warm-ups and probes use it) of `method` to `url` with `headers`, each body `body` and X-Request-Id
 * `key` with {{n}} replaced by the next number of `numbers`. Returns { generator, seconds, requests: { sent,
 * total }, 2xx, non2xx, statuses (non-2xx codes), errors, timeouts, latency ms { p50, p90, p97_5, p99, max,
 * mean }, acked (the keys answered 2xx), generatorCpuSeconds }. A 2xx without its key echoed fails the load.
 * Bodies that are not one template (the telephony call mix): `items`, a function returning the next { key, body }
 * (key a safe X-Request-Id, unique in the run) instead of body/key/numbers; wrk takes `itemsMax` of them made
 * beforehand (running out fails the load), autocannon asks for each as it goes. `onStart`: awaited right before
 * the generator starts (after wrk's bodies are made), e.g. to start a CPU meter.
 */
export async function load(opts) {
  const o = { method: 'POST', threads: 1, timeoutSeconds: 10, generator: pickGenerator(), ...opts };
  if (o.items) {
    if (o.numbers) throw new Error('load: items or numbers, not both');
    o.numbers = createNumbers();
  } else if (!o.key.includes(PLACEHOLDER) || !SAFE_ID.test(fill(o.key, '0'.repeat(o.numbers.width))))
    throw new Error(`load: key ${o.key} must hold ${PLACEHOLDER} and be a safe X-Request-Id`);
  const generator = o.amount ? 'autocannon' : o.generator;
  const result = await (generator === 'wrk' ? runWrk(o, o.numbers) : runAutocannon(o, o.numbers));
  if (result.acked.length !== result['2xx'])
    throw new Error(
      `load: ${result['2xx']} answered 2xx but ${result.acked.length} acknowledged ids (X-Request-Id not echoed?)`,
    );
  return result;
}
