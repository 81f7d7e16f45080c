import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { looksLikeToken, parseToken } from '@switchboard/peer-auth';
import {
  CredentialStore,
  generateClientKey,
  loadClientKeyring,
  normalizeGatewayUrl,
  validatePeerId,
} from './credential-store';
import { checkGatewayTransport, PeerClient, PeerClientError, redactTokens } from './peer-client';

/**
 * `peer` — a peer's credential file and calls to the gateway. Output is JSON with --json; exit code 0 on
 * success, 1 with a one-line message on stderr otherwise. Tokens are read from stdin only, never argv (argv
 * is visible to every local user via ps and lands in shell history).
 */
const USAGE = `usage:
  peer keygen [--id ID]
  peer init --gateway URL --peer ID --file PATH [--expires-at ISO] [--force] [--allow-http]   (token on stdin; optional 2nd line: signing secret)
  peer status --file PATH [--json]
  peer rotate --file PATH [--json] [--allow-http]
  peer send --file PATH --path /v1/website/orders --body FILE|- [--idempotency-key K] [--request-id ID] [--json] [--allow-http]`;

class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;
type Options = Record<string, { type: 'string' | 'boolean' }>;

function parse(args: string[], options: Options, required: string[] = []): Values {
  let values: Values;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const name of required) {
    if (typeof values[name] !== 'string' || values[name] === '')
      throw new UsageError(`--${name} is required`);
  }
  return values;
}

const str = (v: Values, name: string): string | undefined =>
  typeof v[name] === 'string' ? v[name] : undefined;

async function readStdin(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`${prompt}\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function print(result: unknown, json: boolean, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(result) : human()}\n`);
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  async help() {
    process.stdout.write(`${USAGE}\n`);
  },

  async keygen(args) {
    const v = parse(args, { id: { type: 'string' } });
    process.stdout.write(`${generateClientKey(str(v, 'id'))}\n`);
    process.stderr.write(
      'Put this line in SWITCHBOARD_CLIENT_KEYS, or in a mode-600 file named by SWITCHBOARD_CLIENT_KEYS_FILE.\n',
    );
  },

  async init(args) {
    const v = parse(
      args,
      {
        gateway: { type: 'string' },
        peer: { type: 'string' },
        file: { type: 'string' },
        'expires-at': { type: 'string' },
        force: { type: 'boolean' },
        'allow-http': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      ['gateway', 'peer', 'file'],
    );
    const gatewayUrl = normalizeGatewayUrl(str(v, 'gateway')!);
    checkGatewayTransport(gatewayUrl, v['allow-http'] === true);
    const peerId = validatePeerId(str(v, 'peer')!);
    const expiresAtArg = str(v, 'expires-at');
    if (expiresAtArg !== undefined && Number.isNaN(Date.parse(expiresAtArg))) {
      throw new UsageError('--expires-at takes an ISO-8601 date');
    }
    const store = new CredentialStore(str(v, 'file')!, loadClientKeyring());

    const lines = (
      await readStdin('Paste the token (optionally a signing secret on a 2nd line), then Ctrl-D:')
    )
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (lines.length === 0 || lines.length > 2) {
      throw new UsageError(
        'stdin must hold the token, optionally followed by a signing secret on a second line',
      );
    }
    const [token, signingSecret = null] = lines;
    const parsed = parseToken(token);
    if (!parsed) {
      throw new UsageError(
        looksLikeToken(token)
          ? 'the token on stdin fails its checksum (mistyped or truncated?)'
          : 'stdin does not start with a Switchboard token (sbp_…)',
      );
    }
    await store.create(
      {
        gatewayUrl,
        peerId,
        credentialId: parsed.credentialId,
        expiresAt: expiresAtArg === undefined ? null : new Date(expiresAtArg).toISOString(),
        token,
        previous: null,
        signingSecret,
      },
      { overwrite: v.force === true },
    );
    const result = {
      file: store.path,
      peerId,
      credentialId: parsed.credentialId,
      signed: signingSecret !== null,
    };
    print(
      result,
      v.json === true,
      () => `saved credential ${parsed.credentialId} of peer ${peerId} in ${store.path}`,
    );
  },

  async status(args) {
    const v = parse(
      args,
      { file: { type: 'string' }, json: { type: 'boolean' }, 'allow-http': { type: 'boolean' } },
      ['file'],
    );
    const s = await new PeerClient(str(v, 'file')!, { allowInsecureHttp: v['allow-http'] === true }).status();
    print(s, v.json === true, () =>
      [
        `peer:       ${s.peerId}`,
        `gateway:    ${s.gatewayUrl}`,
        `credential: ${s.credentialId}`,
        `expires:    ${s.expiresAt ?? 'unknown'}${s.daysLeft === null ? '' : ` (${s.daysLeft} days left)`}` +
          (s.rotationDue ? ' — rotation due' : ''),
        `previous:   ${s.previous ? `${s.previous.credentialId} (retires ${s.previous.retiresAt})` : 'none'}`,
        `signed:     ${s.signed ? 'yes' : 'no'}`,
      ].join('\n'),
    );
  },

  async rotate(args) {
    const v = parse(
      args,
      { file: { type: 'string' }, json: { type: 'boolean' }, 'allow-http': { type: 'boolean' } },
      ['file'],
    );
    const r = await new PeerClient(str(v, 'file')!, { allowInsecureHttp: v['allow-http'] === true }).rotate();
    print(
      r,
      v.json === true,
      () =>
        `rotated to credential ${r.credentialId} (expires ${r.expiresAt ?? 'unknown'})` +
        (r.previous ? `; ${r.previous.credentialId} stays valid until ${r.previous.retiresAt}` : ''),
    );
  },

  async send(args) {
    const v = parse(
      args,
      {
        file: { type: 'string' },
        path: { type: 'string' },
        body: { type: 'string' },
        'idempotency-key': { type: 'string' },
        'request-id': { type: 'string' },
        json: { type: 'boolean' },
        'allow-http': { type: 'boolean' },
      },
      ['file', 'path', 'body'],
    );
    const source = str(v, 'body')!;
    const text =
      source === '-' ? await readStdin('Paste the JSON body, then Ctrl-D:') : await readFile(source, 'utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new UsageError(
        `--body ${source === '-' ? '(stdin)' : source} is not JSON: ${(err as Error).message}`,
      );
    }
    const client = new PeerClient(str(v, 'file')!, {
      allowInsecureHttp: v['allow-http'] === true,
      onBackgroundError: (err) =>
        process.stderr.write(`warning: credential upkeep: ${redactTokens(err.message)}\n`),
    });
    const res = await client.send(str(v, 'path')!, body, {
      idempotencyKey: str(v, 'idempotency-key'),
      requestId: str(v, 'request-id'),
    });
    print(
      { status: res.status, body: res.body },
      v.json === true,
      () => `${res.status} ${JSON.stringify(res.body)}`,
    );
  },
};

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (!command) throw new UsageError(name === undefined ? 'no command given' : `unknown command "${name}"`);
  await command(args);
}

const argv = process.argv.slice(2);
main(argv).catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  const message = redactTokens(e.message).replace(/\s*\n\s*/g, ' ');
  if (argv.includes('--json')) {
    const status = e instanceof PeerClientError ? e.details.status : undefined;
    process.stdout.write(
      `${JSON.stringify({ error: { code: typeof code === 'string' ? code : null, message, status } })}\n`,
    );
  }
  process.stderr.write(`error: ${message}${e instanceof UsageError ? ' (see "peer help")' : ''}\n`);
  process.exitCode = 1;
});
