import { Command } from 'commander';
import { buildProgram, CliActions, EXIT, FlagValues, runCli } from './cli-program';

/** The program with recording actions; `out`/`err` collect what commander prints. */
function harness() {
  const calls: Array<[string, ...unknown[]]> = [];
  const printed: Array<[unknown, boolean]> = [];
  const out: string[] = [];
  const err: string[] = [];
  const record =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push([name, ...args]);
      return { ran: name };
    };
  const actions: CliActions = {
    migrate: record('migrate'),
    seedDemo: record('seedDemo'),
    peers: record('peers'),
    secretsRewrap: record('secretsRewrap'),
    accessLog: record('accessLog'),
    inbox: record('inbox'),
    retention: record('retention'),
    dlqList: record('dlqList'),
    dlqReplay: record('dlqReplay'),
    erpImport: record('erpImport'),
    operators: record('operators'),
    backup: record('backup'),
    messageCredentials: record('messageCredentials'),
  };
  const write = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) };
  const run = (...argv: string[]) =>
    runCli(
      buildProgram(actions, (r, json) => void printed.push([r, json]), write),
      argv,
      write.err,
    );
  return { calls, printed, out, err, run };
}

/** Every command of the tree (depth first), with its path. */
function walk(cmd: Command, path: string[] = []): Array<{ path: string; cmd: Command }> {
  return cmd.commands.flatMap((c) => {
    const p = [...path, c.name()];
    return [{ path: p.join(' '), cmd: c }, ...walk(c, p)];
  });
}

describe('console CLI (commander)', () => {
  const program = buildProgram(harness().calls as never, () => undefined);

  it('describes every command and every option', () => {
    const all = walk(program);
    expect(all.map((c) => c.path)).toEqual(
      expect.arrayContaining([
        'migrate',
        'seed-demo',
        'peers create',
        'peers list',
        'peers show',
        'peers update',
        'peers rotate',
        'peers revoke',
        'peers audit',
        'secrets rewrap',
        'access-log search',
        'access-log export',
        'access-log delete',
        'access-log audit',
        'access-log partitions',
        'access-log maintain',
        'retention maintain',
        'dlq-list',
        'dlq-replay',
      ]),
    );
    for (const { path, cmd } of all) {
      expect([path, cmd.description().length > 10]).toEqual([path, true]);
      for (const opt of cmd.options)
        expect([path, opt.long, (opt.description ?? '').length > 5]).toEqual([path, opt.long, true]);
      // Every command that does something takes --json, and flags are kebab-case.
      expect([path, cmd.commands.length > 0 || cmd.options.some((o) => o.long === '--json')]).toEqual([
        path,
        true,
      ]);
      for (const opt of cmd.options) expect(opt.long).toMatch(/^--[a-z]+(-[a-z]+)*$/);
    }
  });

  it('peers create --help lists every option the console API takes for a new peer', async () => {
    const h = harness();
    expect(await h.run('peers', 'create', '--help')).toBe(EXIT.ok);
    const help = h.out.join('');
    for (const flag of [
      '--id',
      '--name',
      '--kind',
      '--provider',
      '--scopes',
      '--ip-allowlist',
      '--rate-limit',
      '--timezone',
      '--signing-secret',
      '--signing-secret-stdin',
      '--expires-in-days',
      '--json',
    ])
      expect(help).toMatch(new RegExp(`^  ${flag}\\b.*\\S`, 'm'));
    expect(h.calls).toEqual([]);
  });

  it('--help names the exit codes', async () => {
    const h = harness();
    expect(await h.run('--help')).toBe(EXIT.ok);
    expect(h.out.join('')).toMatch(
      /Exit codes:\n\s+0\s+success\n\s+1\s+the command failed.*\n\s+2\s+usage error/,
    );
  });

  it('retention maintain passes --now and --yes to the retention pass', async () => {
    const h = harness();
    expect(await h.run('retention', 'maintain', '--now', '2027-01-01T00:00:00Z', '--yes', '--json')).toBe(
      EXIT.ok,
    );
    expect(h.calls).toEqual([
      ['retention', { now: '2027-01-01T00:00:00Z', yes: true, json: true } satisfies FlagValues],
    ]);
  });

  it('passes flags keyed as typed, positionals, and --json anywhere after the command', async () => {
    const h = harness();
    const code = await h.run(
      'peers',
      'create',
      '--id',
      'shop',
      '--name',
      'Shop',
      '--kind',
      'website',
      '--ip-allowlist',
      '203.0.113.0/24',
      '--signing-secret-stdin',
      '--json',
    );
    expect(code).toBe(EXIT.ok);
    expect(h.calls).toEqual([
      [
        'peers',
        'create',
        [],
        {
          id: 'shop',
          name: 'Shop',
          kind: 'website',
          'ip-allowlist': '203.0.113.0/24',
          'signing-secret-stdin': true,
          json: true,
        } satisfies FlagValues,
      ],
    ]);
    expect(h.printed).toEqual([[{ ran: 'peers' }, true]]);

    const r = harness();
    expect(await r.run('peers', 'revoke', 'shop', 'cred1')).toBe(EXIT.ok);
    expect(r.calls).toEqual([['peers', 'revoke', ['shop', 'cred1'], {}]]);
    expect(r.printed).toEqual([[{ ran: 'peers' }, false]]);

    const d = harness();
    expect(await d.run('dlq-replay', 'website-connector', '--limit', '5', '--json')).toBe(EXIT.ok);
    expect(d.calls).toEqual([['dlqReplay', 'website-connector', 5]]);
  });

  it('refuses unknown flags and commands with the closest suggestion (exit 2), running nothing', async () => {
    const h = harness();
    expect(await h.run('peers', 'create', '--nmae', 'Shop', '--kind', 'website')).toBe(EXIT.usage);
    expect(h.err.join('')).toContain("error: unknown option '--nmae'\n(Did you mean --name?)");
    expect(await h.run('peres', 'list')).toBe(EXIT.usage);
    expect(h.err.join('')).toContain('(Did you mean peers?)');
    expect(await h.run('access-log', 'delete', '--from', 'x', '--to', 'y', '--peer', 'p')).toBe(EXIT.usage);
    expect(await h.run('peers', 'show')).toBe(EXIT.usage); // missing argument
    expect(await h.run('peers', 'show', 'a', 'b')).toBe(EXIT.usage); // extra argument
    expect(await h.run('dlq-list', 'nope')).toBe(EXIT.usage);
    expect(await h.run('dlq-list', 'website-connector', '--limit', '0')).toBe(EXIT.usage);
    expect(await h.run()).toBe(EXIT.usage);
    expect(h.calls).toEqual([]);
  });

  it('a command that fails exits 1 with its message', async () => {
    const h = harness();
    const program = buildProgram(
      {
        ...({} as CliActions),
        migrate: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
      },
      () => undefined,
      { out: () => undefined, err: (s) => void h.err.push(s) },
    );
    expect(await runCli(program, ['migrate'], (s) => void h.err.push(s))).toBe(EXIT.failed);
    expect(h.err.join('')).toBe('error: connect ECONNREFUSED 127.0.0.1:5432\n');
  });
});
