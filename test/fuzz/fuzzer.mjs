// Sends the generated cases to a running gateway and judges every answer. A finding is: a status >= 500, a
// 4xx that is not application/problem+json with a `code`, a 2xx that accepted something (every case is
// invalid by construction), any other status, a reset or hang where an answer was due, and a gateway that
// stops answering /health or whose process died.
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { caseContext, describeCase, makeCase } from './cases.mjs';

const ROOT = join(import.meta.dirname, '../..');
const KEEP_PER_KIND = 3;

/** The peer-auth signature helpers from the build (dist), so requests are signed exactly as verified. */
export function loadSignatures() {
  return createRequire(import.meta.url)(join(ROOT, 'dist/libs/peer-auth/src/signatures/index.js'));
}

function sendHttp(url, req, agent, timeoutMs) {
  return new Promise((resolve) => {
    let done = false;
    let timer;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    // Node frames no body of GET/HEAD/DELETE/OPTIONS/TRACE unless told its length: say it, always.
    const headers = { ...req.headers };
    if (req.body.length && !('content-length' in headers) && !('transfer-encoding' in headers)) {
      headers['content-length'] = String(req.body.length);
    }
    let r;
    try {
      r = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: req.method,
          path: req.path,
          headers,
          agent,
          setHost: !('host' in req.headers),
        },
        (res) => {
          const chunks = [];
          let size = 0;
          res.on('data', (c) => {
            if (size < 4_194_304) chunks.push(c);
            size += c.length;
          });
          const end = (err) =>
            finish({
              status: res.statusCode,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              ...(err ? { truncated: err.code ?? err.message } : {}),
            });
          res.on('end', () => end());
          res.on('error', end);
          res.on('aborted', () => end({ code: 'aborted' }));
        },
      );
    } catch (err) {
      finish({ clientRefused: err.code ?? err.message });
      return;
    }
    timer = setTimeout(() => {
      r.destroy(new Error('timeout'));
      finish({ error: 'timeout' });
    }, timeoutMs);
    r.on('error', (err) => finish({ error: err.code ?? err.message }));
    try {
      r.end(req.body.length ? req.body : undefined);
    } catch (err) {
      r.destroy();
      finish({ clientRefused: err.code ?? err.message });
    }
  });
}

/** Parses the first HTTP response in `data` (enough for status, headers and a problem body). */
function parseRawResponse(data) {
  const text = data.toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text);
  if (!m) return null;
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const headers = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = headEnd < 0 ? Buffer.alloc(0) : data.subarray(headEnd + 4);
  if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts = [];
    let rest = body;
    for (;;) {
      const eol = rest.indexOf('\r\n');
      if (eol < 0) break;
      const n = parseInt(rest.subarray(0, eol).toString(), 16);
      if (!n) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + n));
      rest = rest.subarray(eol + 2 + n + 2);
    }
    body = Buffer.concat(parts);
  }
  return { status: Number(m[1]), headers, body: body.toString('utf8') };
}

function sendRaw(url, req, timeoutMs) {
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    let error;
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    const finish = () => {
      if (done) return;
      done = true;
      const data = Buffer.concat(chunks);
      if (!data.length) return resolve({ error: error ?? 'closed-without-response' });
      const parsed = parseRawResponse(data);
      resolve(parsed ?? { garbled: data.subarray(0, 200).toString('latin1') });
    };
    sock.setTimeout(req.expectResponse ? timeoutMs : Math.min(timeoutMs, 5000), () => {
      error = 'timeout';
      sock.destroy();
    });
    // Half-closing at once would make Node drop answers that take a moment (a 202 after the broker confirm):
    // end our side only when a deliberately incomplete request, or one without an answer after 2 s, needs it.
    let nudge;
    sock.on('connect', () => {
      sock.write(req.raw, () => undefined);
      if (!req.expectResponse) sock.end();
      else nudge = setTimeout(() => chunks.length || sock.end(), 2000);
    });
    sock.on('data', (c) => chunks.push(c));
    sock.on('close', () => clearTimeout(nudge));
    sock.on('error', (err) => (error ??= err.code ?? err.message));
    sock.on('close', finish);
  });
}

const isProviderRoute = (req) =>
  req.path.startsWith('/v1/providers/') || req.path.startsWith('/V1/PROVIDERS/');

/** The same request as raw bytes (Content-Length framing, Connection: close). */
function asRaw(url, req) {
  const lines = [`${req.method} ${req.path} HTTP/1.1`];
  if (!('host' in req.headers)) lines.push(`Host: ${url.host}`);
  for (const [k, v] of Object.entries(req.headers)) for (const one of [v].flat()) lines.push(`${k}: ${one}`);
  lines.push(`Content-Length: ${req.body.length}`, 'Connection: close');
  return {
    ...req,
    transport: 'raw',
    raw: Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), req.body]),
  };
}

/** Raw resends of an over-limit upload whose answer a reset swallowed, before that counts as a finding. */
const OVER_LIMIT_ATTEMPTS = 3;

/**
 * Sends a case. An over-limit upload may be cut off by the server after its 413 (EPIPE/ECONNRESET while the
 * client still writes, before Node's client reads the answer): then it is resent raw, which reads the 413 as
 * it arrives. Even so the server's close can reset the connection before the answer is read (the client is
 * still sending the rest of the body: TCP's "lingering close" problem), so a few raw attempts are made; a
 * gateway that never answers such an upload still shows up as a reset.
 */
async function send(url, req, agent, timeoutMs, bodyLimit) {
  if (req.transport === 'raw') return sendRaw(url, req, timeoutMs);
  const res = await sendHttp(url, req, agent, timeoutMs);
  const cutOff = (r) => r.status === undefined && ['EPIPE', 'ECONNRESET'].includes(r.error);
  if (!cutOff(res) || req.body.length <= bodyLimit) return res;
  let raw;
  for (let attempt = 1; attempt <= OVER_LIMIT_ATTEMPTS; attempt++) {
    raw = await sendRaw(url, asRaw(url, req), timeoutMs);
    if (!cutOff(raw)) return { ...raw, resentRaw: res.error, attempts: attempt };
  }
  return { ...raw, resentRaw: res.error, attempts: OVER_LIMIT_ATTEMPTS };
}

/** Sends one case and judges it (replaying a reproducer against a running gateway). */
export async function sendCase(req, { timeoutMs = 20_000, bodyLimit = 1_048_576 } = {}) {
  const url = new URL(req.gatewayUrl);
  const agent = new http.Agent({ keepAlive: false });
  const res = await send(url, req, agent, timeoutMs, bodyLimit);
  agent.destroy();
  return { res, verdict: judge(req, res) };
}

/** One answer -> its column in the table and, when it breaks a rule, the finding's kind. */
export function judge(req, res) {
  if (res.clientRefused) return { bucket: 'skipped' };
  if (res.garbled !== undefined) return { bucket: 'other', finding: 'garbled-response' };
  if (res.status === undefined) {
    if (!req.expectResponse && res.error !== 'timeout') return { bucket: 'closed' };
    if (!req.expectResponse && res.error === 'timeout') return { bucket: 'closed' };
    return { bucket: 'reset', finding: res.error === 'timeout' ? 'timeout' : 'reset' };
  }
  const s = res.status;
  const type = String(res.headers['content-type'] ?? '');
  if (s >= 500) return { bucket: '5xx', finding: '5xx' };
  if (s >= 400) {
    if (!type.includes('application/problem+json')) return { bucket: '4xx', finding: 'non-problem-4xx' };
    // 429 (RATE_LIMITED, AUTH_LOCKED) tells the peer when to come back.
    if (s === 429 && !res.headers['retry-after'])
      return { bucket: '4xx', finding: '429-without-retry-after' };
    if (req.method === 'HEAD') return { bucket: '4xx' };
    try {
      const body = JSON.parse(res.body);
      if (typeof body.code !== 'string' || body.status !== s)
        return { bucket: '4xx', finding: 'non-problem-4xx' };
      return { bucket: '4xx', code: body.code };
    } catch {
      return { bucket: '4xx', finding: 'non-problem-4xx' };
    }
  }
  if (s >= 200 && s < 300) {
    // Handshakes answer in the provider's protocol (Zadarma zd_echo, WooCommerce ping): text, nothing published.
    if (type.startsWith('text/plain') && isProviderRoute(req)) return { bucket: '2xx', code: 'handshake' };
    try {
      const body = JSON.parse(res.body);
      if (Array.isArray(body.eventIds) && body.eventIds.length === 0)
        return { bucket: '2xx', code: 'ack-nothing' };
    } catch {
      // not JSON: judged below
    }
    return { bucket: '2xx', finding: 'accepted-invalid' };
  }
  return { bucket: 'other', finding: 'unexpected-status' };
}

const newRow = () => ({
  requests: 0,
  '2xx': 0,
  '4xx': 0,
  '5xx': 0,
  reset: 0,
  closed: 0,
  other: 0,
  skipped: 0,
});

/**
 * @param opts.gatewayUrl  base URL of a running gateway
 * @param opts.peers       { role: { id, token?, signingSecret? } } (test/fuzz/peers.json roles)
 * @param opts.isAlive     () => boolean: the gateway process still runs (standalone runs know it)
 */
export async function runFuzz({
  gatewayUrl,
  peers,
  iterations = 5000,
  seed = 1,
  concurrency = 8,
  bodyLimit = 1_048_576,
  timeoutMs = 20_000,
  healthEvery = 250,
  isAlive = () => true,
  log = () => undefined,
  sig = loadSignatures(),
}) {
  const url = new URL(gatewayUrl);
  const ctx = caseContext({ gatewayUrl: url.origin, peers, sig, bodyLimit });
  // A connection per request: an answer sent before the body was read (413, 417) cannot leak into the next case.
  const agent = new http.Agent({ keepAlive: false, maxSockets: concurrency });
  const endpoints = {};
  const shapes = {};
  const statuses = {};
  const codes = {};
  const findingCounts = {};
  const findings = [];
  /** Cases Node's HTTP client would not send (invalid header or method), by its reason: shown, not hidden. */
  const clientRefused = {};
  const startedAt = Date.now();
  let next = 0;
  let sent = 0;
  let aborted = null;

  const health = async () => {
    if (!isAlive()) return 'gateway process exited';
    try {
      const res = await fetch(`${url.origin}/health`, { signal: AbortSignal.timeout(5000) });
      return res.status === 200 ? null : `/health answered ${res.status}`;
    } catch (err) {
      return `/health failed: ${err.message}`;
    }
  };

  const record = (req, res, verdict) => {
    const row = (endpoints[req.endpoint] ??= newRow());
    const shape = (shapes[req.shape] ??= newRow());
    for (const r of [row, shape]) {
      r.requests += 1;
      r[verdict.bucket] += 1;
    }
    if (res.status !== undefined) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    if (res.clientRefused) {
      const why = (clientRefused[res.clientRefused] ??= { count: 0, examples: [] });
      why.count += 1;
      if (why.examples.length < 3)
        why.examples.push(`case ${req.index} (${req.shape} ${req.method} ${req.endpoint})`);
    }
    if (verdict.code) codes[verdict.code] = (codes[verdict.code] ?? 0) + 1;
    if (!verdict.finding) return;
    findingCounts[verdict.finding] = (findingCounts[verdict.finding] ?? 0) + 1;
    // Reproducers: the first few of each distinct kind of failure (kind, status, error, problem code, shape).
    const signature = [
      verdict.finding,
      res.status,
      res.error,
      res.headers?.['content-type'],
      req.shape,
      req.method,
    ].join('|');
    if (findings.length >= 60 || findings.filter((f) => f.signature === signature).length >= KEEP_PER_KIND)
      return;
    findings.push({
      kind: verdict.finding,
      signature,
      seed,
      ...describeCase(req),
      status: res.status ?? null,
      error: res.error ?? res.truncated ?? null,
      contentType: res.headers?.['content-type'] ?? null,
      response: res.body !== undefined ? res.body.slice(0, 300) : (res.garbled ?? null),
      replay: `node test/fuzz/run.mjs --seed ${seed} --case ${req.index}`,
    });
  };

  const worker = async () => {
    while (!aborted) {
      const index = next++;
      if (index >= iterations) return;
      const req = makeCase(ctx, seed, index);
      const res = await send(url, req, agent, timeoutMs, bodyLimit);
      sent += 1;
      const verdict = judge(req, res);
      record(req, res, verdict);
      if (verdict.finding === 'reset' || verdict.finding === 'timeout') {
        const problem = await health();
        if (problem) aborted = `${problem} (after case ${index})`;
      }
      if (sent % healthEvery === 0) {
        const problem = await health();
        if (problem) aborted = `${problem} (after ${sent} requests)`;
        else
          log(
            `${sent}/${iterations} sent, ${
              findings.length
                ? Object.entries(findingCounts)
                    .map(([k, n]) => `${k}=${n}`)
                    .join(' ')
                : 'no findings'
            }`,
          );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  const finalHealth = aborted ?? (await health());
  if (finalHealth) {
    findingCounts.crash = 1;
    findings.push({ kind: 'crash', seed, detail: finalHealth });
  }
  return {
    seed,
    iterations,
    sent,
    concurrency,
    durationSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
    healthy: !finalHealth,
    endpoints,
    shapes,
    statuses,
    codes,
    clientRefused,
    findingCounts,
    findingTotal: Object.values(findingCounts).reduce((a, b) => a + b, 0),
    findings,
  };
}
