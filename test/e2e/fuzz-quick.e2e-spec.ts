import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, ROOT, TestSystem } from './support/system';

/**
 * The quick variant of the peer-endpoint fuzz (test/fuzz, `npm run fuzz` for the full one): a fixed seed's
 * ~800 generated bad requests (mutated valid bodies, random JSON/XML/form/binary bodies, bodies around the
 * 1 MiB limit, odd and invented methods, broken framing, header abuse; valid and invalid credentials) to
 * every peer endpoint of a real gateway. No answer may be >= 500, every 4xx is problem+json with a code,
 * nothing is accepted, no connection is dropped, the gateway stays up, and the CRM does not change.
 * The fuzzer is ESM and runs in a child process (`run.mjs --attach`), like stackCall in support/system.
 */
const SEED = 20261123;
const ITERATIONS = Number(process.env.FUZZ_QUICK_ITERATIONS ?? 800);
const SPEC: Array<Record<string, unknown> & { role: string; id: string; signingSecret?: string }> =
  JSON.parse(readFileSync(join(ROOT, 'test/fuzz/peers.json'), 'utf8')).peers;
const CRM_TABLES = ['deals', 'contacts', 'leads', 'call_logs', 'call_events', 'tasks'];

interface FuzzResult {
  sent: number;
  healthy: boolean;
  findingCounts: Record<string, number>;
  findings: Array<Record<string, unknown>>;
  endpoints: Record<string, Record<string, number>>;
}

describe('fuzz (quick): generated bad input on every peer endpoint', () => {
  // Thousands of bad credentials would lock the fuzz peers out, and validation would never be reached.
  const sys = new TestSystem('fuzz-quick', {
    PEER_LOCKOUT_MAX_FAILURES: '100000000',
    PEER_LOCKOUT_IP_MAX_FAILURES: '100000000',
  });
  const peers: Record<string, { id: string; token?: string; signingSecret?: string }> = {};

  beforeAll(async () => {
    await sys.start(['console', 'website-connector', 'telephony-connector']);
    for (const { role, ...fields } of SPEC) {
      const res = await sys.consoleCall('POST', '/v1/admin/peers', {
        name: `fuzz ${role}`,
        rateLimitPerMinute: 10_000_000,
        ...fields,
      });
      expect(res.status).toBe(201);
      peers[role] = { id: fields.id, token: res.body.credential?.token, signingSecret: fields.signingSecret };
    }
    // Peers first: the gateway loads them at start, so no request races the directory.
    await sys.startApp('gateway');
  });
  afterAll(() => sys.destroy());

  const crmCounts = async (): Promise<Record<string, number>> => {
    const [row] = await sys.sql<Record<string, number>>(
      `SELECT ${CRM_TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`,
    );
    return row;
  };
  /** Events the gateway published (its switchboard_ingest_total{result="accepted"}). */
  const published = async (): Promise<number> => {
    const text = await (await fetch(`${sys.app('gateway').metricsUrl}/metrics`)).text();
    return [...text.matchAll(/^switchboard_ingest_total\{([^}]*)\} (\d+)/gm)]
      .filter((m) => m[1].includes('result="accepted"'))
      .reduce((n, m) => n + Number(m[2]), 0);
  };
  const depths = async () => ({
    website: await sys.queueDepth(sys.queue('website-connector')),
    websiteDlq: await sys.queueDepth(sys.queue('website-connector', 'dlq')),
    telephony: await sys.queueDepth(sys.queue('telephony-connector')),
    telephonyDlq: await sys.queueDepth(sys.queue('telephony-connector', 'dlq')),
  });

  function fuzz(): Promise<FuzzResult> {
    const attach = { gatewayUrl: sys.app('gateway').url, peers, iterations: ITERATIONS, seed: SEED };
    return new Promise((resolve, reject) =>
      execFile(
        process.execPath,
        [join(ROOT, 'test/fuzz/run.mjs'), '--attach'],
        {
          cwd: ROOT,
          env: { ...process.env, FUZZ_ATTACH: JSON.stringify(attach) },
          timeout: 150_000,
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          if (err) return reject(new Error(`fuzzer failed: ${stderr || err.message}`));
          resolve(JSON.parse(stdout.trim().split('\n').pop()!) as FuzzResult);
        },
      ),
    );
  }

  it(`seed ${SEED}: no answer >= 500, problem+json for every 4xx, nothing accepted, gateway up, CRM unchanged`, async () => {
    const before = { crm: await crmCounts(), published: await published() };

    const result = await fuzz();

    // The proof that nothing was accepted is the gateway's own count of published events (unchanged below), not
    // a pause: with nothing published, nothing can reach the queues or the CRM later. The queues are drained of
    // anything unexpected before the CRM is compared, so a leak shows in both counts.
    await eventually(async () => {
      const d = await depths();
      return d.website === 0 && d.telephony === 0;
    });
    const after = { crm: await crmCounts(), published: await published() };

    expect(result.sent).toBe(ITERATIONS);
    // A failure names each kind of finding with its first reproducers (`node test/fuzz/run.mjs --seed S --case I`).
    expect({ findings: result.findingCounts, reproducers: result.findings.slice(0, 8) }).toEqual({
      findings: {},
      reproducers: [],
    });
    expect(result.healthy).toBe(true);
    expect(sys.app('gateway').proc.exitCode).toBeNull();
    expect((await fetch(`${sys.app('gateway').url}/health`)).status).toBe(200);
    expect(after).toEqual(before);
    expect(await depths()).toEqual({ website: 0, websiteDlq: 0, telephony: 0, telephonyDlq: 0 });
    // Every peer endpoint was reached.
    expect(Object.keys(result.endpoints).length).toBe(12);
  });
});
