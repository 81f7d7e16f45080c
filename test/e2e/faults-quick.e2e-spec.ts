import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort, ROOT } from './support/system';

/**
 * Issue 6: the quick variant of `npm run faults` (test/faults/run.mjs --quick). Five fault scenarios under load
 * (connectors SIGKILLed, RabbitMQ restarted, PostgreSQL stopped, gateway SIGTERMed, poison mixed in), each
 * checked against the CRM: no acknowledged event lost, none duplicated, every poison message dead-lettered.
 * It runs on its own PostgreSQL and RabbitMQ (below SERVER_ROOT, on ports of its own), never on the suite's
 * servers, and stops them whatever happens.
 */
const SERVER_ROOT = join(ROOT, '.data', 'faults-e2e');
const REPORT = join(ROOT, '.data', 'faults-quick-report');
const LOG = join(ROOT, '.data', 'test-logs', 'faults-quick.log');

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

/**
 * Ports nobody holds right now, rather than fixed ones that a leftover server could occupy: one for PostgreSQL,
 * and for RabbitMQ a port whose next two (Erlang distribution, management; see config/stack) are free too.
 */
async function serverPorts(): Promise<string[]> {
  const pg = await freePort();
  for (let base = 56_700; base < 60_000; base += 3) {
    if (base <= pg && pg <= base + 2) continue;
    if ((await portFree(base)) && (await portFree(base + 1)) && (await portFree(base + 2)))
      return ['--pg-port', String(pg), '--amqp-port', String(base)];
  }
  throw new Error('no free ports for the fault servers');
}

interface Scenario {
  id: string;
  scenario: string;
  accepted: number;
  lost: number;
  duplicated: number;
  pass: boolean;
  error?: string;
  poison?: { expected: number; inDlq: number; missing: number };
}

/** Stops the servers under SERVER_ROOT (config/stack is ESM; jest runs CommonJS), if any still run. */
function stopServers(): Promise<void> {
  const script =
    `const m = await import('./config/stack/stack.mjs'); const root = process.argv[1];` +
    `await Promise.allSettled([m.stopRabbit(root), m.stopPostgres(root)]);`;
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script, SERVER_ROOT],
      { cwd: ROOT, timeout: 120_000 },
      () => resolve(),
    ),
  );
}

describe('fault scenarios (quick)', () => {
  let child: ChildProcess | null = null;

  afterAll(async () => {
    // On a timeout or failure: the harness stops its apps and servers on SIGTERM; then make sure anyway.
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 60_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await stopServers();
  }, 240_000);

  it("the harness's own verdicts (test/faults/verdicts.test.mjs) hold", async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--test', '--test-reporter=tap', 'test/faults/verdicts.test.mjs'],
        { cwd: ROOT, timeout: 60_000 },
        (err, stdout) => (err ? reject(new Error(stdout || err.message)) : resolve(stdout)),
      ),
    );
    expect(out).toMatch(/# fail 0/);
  });

  it('loses and duplicates no acknowledged event in any scenario; poison ends in the DLQs', async () => {
    rmSync(`${REPORT}.json`, { force: true });
    mkdirSync(join(ROOT, '.data', 'test-logs'), { recursive: true });
    const log = createWriteStream(LOG);
    let output = '';
    const ports = await serverPorts();
    const code = await new Promise<number | null>((resolve, reject) => {
      child = spawn(
        process.execPath,
        [join(ROOT, 'test/faults/run.mjs'), '--quick', '--root', SERVER_ROOT, ...ports, '--report', REPORT],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const keep = (d: Buffer) => {
        log.write(d);
        output = (output + d.toString()).slice(-20_000);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    log.end();

    const why = `exit ${code}; see ${LOG}\n${output.slice(-4000)}`;
    let report: { scenarios: Scenario[] };
    try {
      report = JSON.parse(readFileSync(`${REPORT}.json`, 'utf8'));
    } catch (err) {
      throw new Error(`no report (${(err as Error).message}); ${why}`);
    }
    expect(report.scenarios.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (const s of report.scenarios) {
      expect({
        scenario: s.scenario,
        lost: s.lost,
        duplicated: s.duplicated,
        error: s.error ?? null,
      }).toEqual({
        scenario: s.scenario,
        lost: 0,
        duplicated: 0,
        error: null,
      });
      expect(s.accepted).toBeGreaterThan(0);
    }
    const poison = report.scenarios.find((s) => s.id === 'e')!.poison!;
    expect(poison.expected).toBeGreaterThan(0);
    expect(poison.missing).toBe(0);
    // Every other verdict condition (drained, clean answers, no unexpected dead letters) as the harness judged.
    const failed = report.scenarios.filter((s) => !s.pass).map((s) => s.scenario);
    if (failed.length || code !== 0) throw new Error(`failed: ${failed.join(', ') || '-'}; ${why}`);
  }, 600_000);
});
