import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { order, ROOT, sleep, TestSystem } from './support/system';

const CLI = join(ROOT, 'dist/libs/peer-client/src/cli.js');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** The peer-client CLI as a peer's developer runs it: a separate process, its key only in the environment. */
function peerCli(env: NodeJS.ProcessEnv, args: string[], stdin = '', killAfterMs?: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env,
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.stdin.end(stdin);
    if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

describe('peer-client against the real gateway', () => {
  const sys = new TestSystem('peer-client');
  const dir = mkdtempSync(join(tmpdir(), 'sb-peer-client-'));
  const file = join(dir, 'credential.json');
  let env: NodeJS.ProcessEnv;
  let firstToken: string;

  beforeAll(async () => {
    await sys.start(['gateway']);
    const created = await sys.cli(
      'peers',
      'create',
      '--id',
      'client-shop',
      '--name',
      'Client shop',
      '--kind',
      'website',
      '--scopes',
      'website.*',
      '--expires-in-days',
      '2',
    );
    firstToken = created.credential.token;
    const keygen = await peerCli({ PATH: process.env.PATH }, ['keygen']);
    expect(keygen.code).toBe(0);
    env = { PATH: process.env.PATH, SWITCHBOARD_CLIENT_KEYS: keygen.out.trim() };
    const init = await peerCli(
      env,
      ['init', '--gateway', sys.app('gateway').url, '--peer', 'client-shop', '--file', file],
      `${firstToken}\n`,
    );
    expect(init).toMatchObject({ code: 0 });
  });
  afterAll(() => sys.destroy());

  const status = async () => {
    const r = await peerCli(env, ['status', '--file', file, '--json']);
    expect(r).toMatchObject({ code: 0 });
    return JSON.parse(r.out) as { credentialId: string; expiresAt: string; daysLeft: number };
  };

  const sendOrder = async () => {
    const body = join(dir, 'order.json');
    writeFileSync(body, JSON.stringify(order()));
    return peerCli(env, ['send', '--file', file, '--path', '/v1/website/orders', '--body', body, '--json']);
  };

  it('a credential about to expire is rotated by the client itself, which keeps working', async () => {
    const first = await sendOrder();
    expect(first.code).toBe(0);
    // The gateway said "expires in 2 days" (X-Credential-Expires); the client rotates before its next request.
    const second = await sendOrder();
    expect(second.code).toBe(0);
    const s = await status();
    expect(s.credentialId).not.toBe(firstToken.split('_')[1]);
    expect(s.daysLeft).toBeGreaterThan(80);
    const peer = await sys.cli('peers', 'show', 'client-shop');
    const states = Object.fromEntries(peer.credentials.map((c: any) => [c.id, c.state]));
    expect(states[s.credentialId]).toBe('active');
    expect(states[firstToken.split('_')[1]]).toBe('retiring');
    expect((await sendOrder()).code).toBe(0);
  });

  it('the credential file never holds a token in plaintext', () => {
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/sbp_/);
    expect(text).not.toContain(firstToken.split('_')[2].slice(0, 32));
    expect(JSON.parse(text)).toMatchObject({ peerId: 'client-shop', token: expect.stringMatching(/^sb1\./) });
  });

  it('killing the client mid-rotation always leaves a usable credential', async () => {
    for (const killAfterMs of [5, 30, 60, 90, 120, 160, 220, 300]) {
      const r = await peerCli(env, ['rotate', '--file', file, '--json'], '', killAfterMs);
      expect(r.code === 0 || r.signal === 'SIGKILL').toBe(true);
      await sleep(20);
      const after = await sendOrder();
      expect({ killAfterMs, code: after.code, err: after.err }).toEqual({ killAfterMs, code: 0, err: '' });
    }
    // However many rotations were cut short, at most two credentials are live.
    const peer = await sys.cli('peers', 'show', 'client-shop');
    expect(
      peer.credentials.filter((c: any) => ['active', 'retiring'].includes(c.state)).length,
    ).toBeLessThanOrEqual(2);
  });
});
