import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, ROOT, TestSystem } from './support/system';

/**
 * The README's quick start as a newcomer follows it: `npm start` (config/scripts/start.mjs, run as npm runs it
 * after the build) prints a banner; every command in it, pasted into another terminal of the same checkout with
 * nothing exported, works. The demo material goes to a temporary file (SWITCHBOARD_DEMO_FILE) instead of this
 * checkout's .data/demo.json, which the test must not touch; it is the only variable the commands get.
 */
const BANNER_END = 'Ctrl-C stops the apps';

/** A second terminal: a login shell's PATH and HOME, none of the settings `npm start` gave its apps. */
function pasteInTerminal(
  command: string,
  demoFile: string,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', command],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHBOARD_DEMO_FILE: demoFile },
        timeout: 60_000,
      },
      (err, out, errOut) => resolve({ code: err ? ((err.code as number) ?? 1) : 0, out, err: errOut }),
    );
  });
}

/** The JSON document a command printed (npm prints its own `> switchboard@… cli` lines first). */
function jsonOf(out: string): any {
  const start = out.search(/^[{[]/m);
  if (start < 0) throw new Error(`no JSON in output:\n${out}`);
  return JSON.parse(out.slice(start));
}

describe("quick start: the npm start banner's commands work as printed", () => {
  const sys = new TestSystem('quick-start');
  const dir = mkdtempSync(join(tmpdir(), 'sb-quick-start-'));
  const demoFile = join(dir, 'demo.json');
  let start: ChildProcess | null = null;
  let banner = '';
  /** Everything npm start printed so far: a failing paste shows it (an app that stopped says why there). */
  let output = '';

  beforeAll(async () => {
    await sys.start([]); // this suite's own database; start.mjs does the rest
    // Every app of config/apps.json on free ports (its listener and, for gateway and console, its metrics one).
    const manifest = JSON.parse(readFileSync(join(ROOT, 'config/apps.json'), 'utf8')) as {
      apps: Array<{ portEnv: string; metricsPortEnv?: string }>;
    };
    const ports: Record<string, number> = {};
    for (const a of manifest.apps)
      for (const name of [a.portEnv, a.metricsPortEnv]) if (name) ports[name] = await freePort();
    start = spawn(process.execPath, [join(ROOT, 'config/scripts/start.mjs')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NO_COLOR: '1',
        DATABASE_URL: sys.databaseUrl,
        AMQP_URL: sys.amqpUrl,
        AMQP_NAMESPACE: sys.namespace,
        SWITCHBOARD_DEMO_FILE: demoFile,
        LOG_LEVEL: 'warn',
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    output = '';
    start.stdout!.on('data', (d) => (output += d));
    start.stderr!.on('data', (d) => (output += d));
    const up = await eventually(
      async () => output.includes(BANNER_END) || start!.exitCode !== null,
      120_000,
      250,
    );
    if (!up || !output.includes(BANNER_END))
      throw new Error(`npm start did not print its banner:\n${output}`);
    banner = output;
  });

  afterAll(async () => {
    if (start && start.exitCode === null) {
      const exited = new Promise((r) => start!.once('exit', r));
      start.kill('SIGINT'); // Ctrl-C, as the banner says
      await exited;
    }
    await sys.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const cliCommands = () => [...banner.matchAll(/npm run cli -- [^|\n]+/g)].map((m) => m[0].trim());
  const curlCommands = () =>
    banner
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('curl '));

  it('prints the operator CLI commands and ready-to-paste curls', () => {
    expect(cliCommands()).toEqual(['npm run cli -- peers list', 'npm run cli -- peers rotate demo-shop']);
    expect(curlCommands()).toHaveLength(4);
  });

  it('runs the printed CLI commands in another terminal with nothing exported', async () => {
    const runs: Array<{ command: string; code: number | null; err: string; out: string }> = [];
    for (const command of cliCommands())
      runs.push({ command, ...(await pasteInTerminal(command, demoFile)) });
    expect(runs.map((r) => ({ command: r.command, code: r.code, err: r.code ? r.err : '' }))).toEqual(
      runs.map((r) => ({ command: r.command, code: 0, err: '' })),
    );
    const isList = (r: { command: string }) => r.command.endsWith('peers list');
    const [list, others] = [runs.filter(isList), runs.filter((r) => !isList(r))];
    expect(list).toHaveLength(1);
    expect(jsonOf(list[0].out).items.map((p: { id: string }) => p.id)).toEqual(
      expect.arrayContaining(['demo-shop', 'demo-woo', 'demo-pbx']),
    );
    for (const r of others)
      expect(jsonOf(r.out)).toMatchObject({ peerId: 'demo-shop', token: expect.any(String) });
  });

  it('runs the printed curls: the order and the missed call are accepted and read back', async () => {
    const [postOrder, getDeals, postCall, getCalls] = curlCommands();
    const accepted = async (command: string) => {
      const r = await pasteInTerminal(command, demoFile);
      if (r.code !== 0)
        throw new Error(
          `${command}\nexit ${r.code}: ${r.err}\nnpm start printed:\n${output.split('\n').slice(-80).join('\n')}`,
        );
      expect(jsonOf(r.out)).toEqual({ eventId: expect.any(String) });
    };
    await accepted(postOrder);
    const deals = await eventually(async () => {
      const r = await pasteInTerminal(getDeals, demoFile);
      return r.code === 0 && jsonOf(r.out).items?.length ? jsonOf(r.out).items : null;
    });
    expect(deals).toEqual([expect.objectContaining({ externalId: 'demo-1001', peerId: 'demo-shop' })]);
    await accepted(postCall);
    const calls = await eventually(async () => {
      const r = await pasteInTerminal(getCalls, demoFile);
      return r.code === 0 && jsonOf(r.out).items?.length ? jsonOf(r.out).items : null;
    });
    expect(calls).toEqual([expect.objectContaining({ disposition: 'missed' })]);
  });
});
