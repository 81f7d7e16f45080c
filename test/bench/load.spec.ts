import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** load.mjs is ESM and jest runs CommonJS: each case runs `body` in a child process that prints JSON. */
function run<T>(body: string): T {
  const script = `const m = await import(${JSON.stringify(join(__dirname, 'load.mjs'))});\n${body}`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    // The load cases print every acknowledged id: on a fast machine over the default 1 MiB (ENOBUFS).
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(out) as T;
}

const HAS_WRK = ['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p));

describe('load.mjs: wrk script configuration', () => {
  it('writes any string as a Lua literal: printable ASCII as is, quotes, backslashes and other bytes as \\ddd', () => {
    expect(run<string>(`console.log(JSON.stringify(m.luaString('a"b\\\\c\\nй {{n}}')))`)).toBe(
      '"a\\034b\\092c\\010\\208\\185 {{n}}"',
    );
  });

  it('splits the body and the key at the placeholder', () => {
    const cfg = run<string>(
      `console.log(JSON.stringify(m.wrkConfig({ method: 'POST', path: '/v1/x?a=1', headers: { authorization: 'Bearer t' },
         body: '{"id":"K-{{n}}","p":"+7{{n}}"}', key: 'K-{{n}}', base: 42, threads: 2, width: 7, out: '/tmp/r' })))`,
    );
    expect(cfg).toContain('parts = { "{\\034id\\034:\\034K-", "\\034,\\034p\\034:\\034+7", "\\034}" }');
    expect(cfg).toContain('keyParts = { "K-", "" }');
    expect(cfg).toContain('headers = { ["authorization"] = "Bearer t" }');
    expect(cfg).toMatch(/base = 42, threads = 2, width = 7, out = "\/tmp\/r" }\n$/);
  });
});

describe('load.mjs: parseWrkReport', () => {
  const head = {
    requests: 1005,
    durationUs: 2_000_500,
    bytes: 123_456,
    errors: { connect: 1, read: 2, write: 0, status: 5, timeout: 3 },
    latencyUs: { p50: 1234, p90: 5000, p97_5: 9999, p99: 20_005, max: 123_456, mean: 2345.6 },
    cpuTicks: 37,
    threads: [
      { sent: 601, ok: 597, statuses: { '503': 3 } },
      { sent: 420, ok: 403, statuses: { '503': 2, '429': 0 } },
    ],
  };

  it('sums the threads and converts latency to ms and CPU ticks to seconds', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `K-${String(i).padStart(7, '0')}`);
    const r = run<Record<string, unknown>>(
      `console.log(JSON.stringify(m.parseWrkReport(${JSON.stringify(`${JSON.stringify(head)}\n${ids.join('\n')}\n`)})))`,
    );
    expect(r).toEqual({
      generator: 'wrk',
      seconds: 2.0005,
      requests: { sent: 1020, total: 1005 },
      '2xx': 1000,
      non2xx: 5,
      statuses: { '503': 5, '429': 0 },
      errors: 3,
      timeouts: 3,
      latency: { p50: 1.23, p90: 5, p97_5: 10, p99: 20.01, max: 123.46, mean: 2.35 },
      acked: ids,
      generatorCpuSeconds: 0.37,
      numbersUsed: 1202,
    });
  });

  it('rejects a report whose first line is not JSON', () => {
    expect(() => run(`m.parseWrkReport('Running 10s test\\n'); console.log('null')`)).toThrow(
      /first line is not JSON/,
    );
  });
});

/**
 * Both generators against a local server that answers 503 to every number divisible by 5 and 202 to the rest,
 * echoing X-Request-Id: every body is new, its key is its X-Request-Id, and the acknowledged ids are exactly the
 * 202s the generator received (all the server sent, but those still in flight when the time ran out).
 */
(HAS_WRK ? describe : describe.skip)('load.mjs: load against a local server (needs wrk)', () => {
  const serve = (echo: boolean, generators: string[]) =>
    run<
      {
        generator: string;
        twoXX: number;
        non2xx: number;
        statuses: Record<string, number>;
        acked: string[];
        answered202: string[];
        bodies: number;
        uniqueBodies: number;
        bodyKeyMismatch: number;
        connections: number;
        cpu: number | null;
      }[]
    >(`
      const http = await import('node:http');
      const out = [];
      const numbers = m.createNumbers(7);
      for (const generator of ${JSON.stringify(generators)}) {
        const bodies = [];
        const answered202 = [];
        let mismatch = 0;
        const srv = http.createServer((req, res) => {
          let b = '';
          req.on('data', (c) => (b += c));
          req.on('end', () => {
            const { id, phone } = JSON.parse(b);
            bodies.push(id);
            if (req.headers['x-request-id'] !== id || phone !== '+7916' + id.slice(2)) mismatch++;
            const code = Number(id.slice(2)) % 5 === 0 ? 503 : 202;
            if (code === 202) answered202.push(id);
            res.writeHead(code, ${echo} ? { 'x-request-id': req.headers['x-request-id'] } : {});
            res.end('{}');
          });
        });
        await new Promise((r) => srv.listen(0, '127.0.0.1', r));
        try {
          const r = await m.load({ generator, url: 'http://127.0.0.1:' + srv.address().port + '/orders',
            headers: { 'content-type': 'application/json' }, body: '{"id":"K-{{n}}","phone":"+7916{{n}}"}',
            key: 'K-{{n}}', numbers, connections: 8, duration: 1, threads: 2 });
          out.push({ generator, twoXX: r['2xx'], non2xx: r.non2xx, statuses: r.statuses, acked: r.acked,
            answered202, bodies: bodies.length, uniqueBodies: new Set(bodies).size, bodyKeyMismatch: mismatch,
            connections: 8, cpu: r.generatorCpuSeconds });
        } catch (e) {
          out.push({ generator, error: e.message });
        } finally {
          srv.closeAllConnections();
          srv.close();
        }
      }
      console.log(JSON.stringify(out));
    `);

  it('wrk and autocannon: unique bodies, acknowledged ids = the 202s received', () => {
    const results = serve(true, ['wrk', 'autocannon']);
    const all = results.flatMap((r) => r.acked);
    expect(new Set(all).size).toBe(all.length); // no number reused across the two loads
    for (const r of results) {
      expect(r).toMatchObject({ bodyKeyMismatch: 0 });
      expect(r.bodies).toBeGreaterThan(100);
      expect(r.uniqueBodies).toBe(r.bodies);
      expect(r.acked).toHaveLength(r.twoXX);
      const sent = new Set(r.answered202);
      expect(r.acked.every((k) => sent.has(k))).toBe(true);
      expect(r.answered202.length - r.acked.length).toBeLessThanOrEqual(r.connections);
      expect(r.statuses['503']).toBe(r.non2xx);
      expect(r.cpu).toBeGreaterThan(0);
    }
  });

  it('fails a load whose server does not echo X-Request-Id', () => {
    expect(serve(false, ['wrk'])).toEqual([
      { generator: 'wrk', error: expect.stringMatching(/X-Request-Id not echoed/) as unknown },
    ]);
  });
});
