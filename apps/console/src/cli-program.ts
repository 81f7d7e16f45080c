import { CONNECTORS } from '@switchboard/contracts';
import { PEER_KINDS, PEER_PROVIDERS, PEER_STATUSES } from '@switchboard/peer-auth';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ACCESS_DIRECTIONS, ACCESS_RESULTS, EXPORT_FORMATS } from './access-log-query.service';
import type { MessageCredentialsSubcommand } from './messaging/message-credentials.cli';

/**
 * The console CLI's commands, options and help (commander), and nothing else: what each command does lives in
 * the actions cli.ts passes in, and configuration is loaded there from the environment, not from argv.
 */

/** Option values keyed by their long flag as typed (`ip-allowlist`), the shape the command modules take. */
export type FlagValues = Record<string, string | number | boolean | undefined>;

export const PEER_SUBCOMMANDS = ['create', 'list', 'show', 'update', 'rotate', 'revoke', 'audit'] as const;
export type PeerSubcommand = (typeof PEER_SUBCOMMANDS)[number];
export const ACCESS_LOG_SUBCOMMANDS = [
  'search',
  'export',
  'delete',
  'audit',
  'partitions',
  'maintain',
] as const;
export type AccessLogSubcommand = (typeof ACCESS_LOG_SUBCOMMANDS)[number];
export type BackupSubcommand = 'create' | 'verify' | 'restore';

/** What each command does. A result is printed as JSON; undefined means the command wrote its own output. */
export interface CliActions {
  migrate(): Promise<unknown>;
  seedDemo(): Promise<unknown>;
  peers(sub: PeerSubcommand, args: string[], values: FlagValues): Promise<unknown>;
  secretsRewrap(): Promise<unknown>;
  accessLog(sub: AccessLogSubcommand, values: FlagValues): Promise<unknown>;
  inbox(sub: 'partitions' | 'maintain', values: FlagValues): Promise<unknown>;
  retention(values: FlagValues): Promise<unknown>;
  dlqList(connector: string, limit: number): Promise<unknown>;
  dlqReplay(connector: string, limit: number): Promise<unknown>;
  erpImport(file: string, values: FlagValues): Promise<unknown>;
  backup(sub: BackupSubcommand, file: string, values: FlagValues): Promise<unknown>;
  messageCredentials(sub: MessageCredentialsSubcommand, args: string[], values: FlagValues): Promise<unknown>;
  operators(sub: 'create' | 'list', values: FlagValues): Promise<unknown>;
}

/** Exit codes, also in the README and in `--help`. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the command failed: input refused (the same checks as the console API), not found, database or broker error
  2  usage error: unknown command or option, missing or extra argument (the closest match is suggested)

Configuration comes from the environment and config/*.json as for the apps (DATABASE_URL, AMQP_URL,
SWITCHBOARD_PEPPER, SWITCHBOARD_MASTER_KEYS, ...), never from options.`;

const JSON_HELP = 'print the result as one line of JSON (for scripts) instead of indented JSON';
const kinds = PEER_KINDS.join('|');
const statuses = PEER_STATUSES.join('|');
const providers = PEER_PROVIDERS.join(', ');
const connectors = Object.keys(CONNECTORS).join('|');

function flags(cmd: Command): FlagValues {
  const values: FlagValues = {};
  for (const opt of cmd.options) {
    const v = cmd.getOptionValue(opt.attributeName()) as FlagValues[string];
    if (v !== undefined) values[opt.long!.slice(2)] = v;
  }
  return values;
}

function positiveInt(flag: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(`${flag} takes a positive integer.`);
    return n;
  };
}

/** A value commander accepted syntactically but the command refuses (exit 2, like other usage errors). */
export class CliUsageError extends Error {}

/** The peer fields shared by create and update, with what the console API accepts for each. */
function peerFieldOptions(cmd: Command, creating: boolean): Command {
  return (
    creating
      ? cmd.option('--name <name>', 'display name (required; the id is derived from it when --id is omitted)')
      : cmd.option('--name <name>', 'display name')
  )
    .option('--provider <provider>', `payload and signature format (${providers}); default generic`)
    .option('--scopes <list>', "comma-separated event types it may send, wildcards allowed ('website.*')")
    .option('--ip-allowlist <cidrs>', 'comma-separated addresses/CIDRs it may call from (empty: any)')
    .option('--rate-limit <perMinute>', "requests per minute, or 'default' for the configured default")
    .option('--timezone <iana>', 'IANA time zone of naive timestamps in its payloads (e.g. Europe/Moscow)')
    .option(
      '--allow-url-credentials <bool>',
      "'true': accept its token in the URL (?access_token=, ?login=&password=) for legacy systems; default false",
    )
    .option(
      '--test-deliveries <mode>',
      "provider test notifications: 'mark' (stored with test: true, the default) or 'drop' (answered 200, not stored)",
    )
    .option(
      '--order-encoding <encoding>',
      "a 1C peer's encoding of its orders (sale&mode=query): windows-1251, utf-8, or 'default' (the configured one)",
    )
    .option('--signing-secret <secret>', "the provider's webhook signing secret (stored encrypted)")
    .option(
      '--signing-secret-stdin',
      'read the signing secret from standard input (keeps it out of ps/history)',
    )
    .option(
      '--outbound-url <url>',
      'where CRM changes are POSTed to this peer as signed webhooks (apps/outbound)',
    )
    .option(
      '--outbound-events <list>',
      'comma-separated change types it gets: crm.deal.status_changed, crm.contact.updated, crm.contact.discount_changed',
    )
    .option('--outbound-secret <whsec>', 'the webhook signing secret: whsec_ + base64 of 24-64 random bytes')
    .option('--outbound-secret-stdin', 'read the webhook signing secret from standard input');
}

/** Filters shared by access-log search and export; the console API checks their values. */
function accessLogFilterOptions(cmd: Command): Command {
  return cmd
    .option('--peer <peerId>', 'only calls this peer made, authenticated')
    .option('--claimed-peer <peerId>', 'only calls that named this peer id, authenticated or not')
    .option('--service <name>', 'only this service (e.g. website.orders, alerts.smtp)')
    .option('--direction <dir>', `only ${ACCESS_DIRECTIONS.join('|')} calls`)
    .option('--result <result>', `only ${ACCESS_RESULTS.join('|')} calls`)
    .option('--code <errorCode>', 'only calls that ended with this error code')
    .option('--from <iso>', 'started at or after this ISO 8601 instant')
    .option('--to <iso>', 'started before this ISO 8601 instant');
}

/**
 * The program. `write` receives what commander prints (help, errors); tests capture it. Every command and
 * option carries a description (a unit test walks the tree), `--json` is on every command that prints a result.
 */
export function buildProgram(
  actions: CliActions,
  print: (result: unknown, json: boolean) => void,
  write: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): Command {
  const program = new Command('cli')
    .description('Switchboard operator commands; they need no running app (npm run cli -- <command> --help)')
    .usage('<command> [subcommand] [options]')
    .addHelpText('after', EXIT_CODES_HELP);
  // Settings every command inherits (copyInheritedSettings runs when a sub-command is created).
  program
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err });

  /** A command that prints its action's result (`--json` is added to each at the end, after its own options). */
  const leaf = (parent: Command, nameAndArgs: string, description: string) =>
    parent.command(nameAndArgs).description(description);
  const run = (fn: (cmd: Command) => Promise<unknown>) =>
    async function (this: Command) {
      print(await fn(this), Boolean(this.getOptionValue('json')));
    };

  leaf(
    program,
    'migrate',
    'apply pending database migrations (under an advisory lock); prints what ran',
  ).action(run(() => actions.migrate()));
  leaf(program, 'seed-demo', 'migrate, then create or update the demo managers (idempotent)').action(
    run(() => actions.seedDemo()),
  );

  const peers = program
    .command('peers')
    .description('peers (websites, PBXs, ERPs, CRMs) and their credentials; tokens are printed once');
  peerFieldOptions(
    leaf(peers, 'create', 'register a peer and issue its first credential (the token is printed once)'),
    true,
  )
    .option('--id <peerId>', 'peer id: lower-case letters, digits and dashes, 2-63 characters')
    .option('--kind <kind>', `what the peer is: ${kinds} (required)`)
    .option('--expires-in-days <days>', 'lifetime of the first credential (default: the rotation policy)')
    .action(run((cmd) => actions.peers('create', cmd.args, flags(cmd))));
  leaf(peers, 'list', 'list every peer with its credentials (never the tokens)').action(
    run((cmd) => actions.peers('list', cmd.args, flags(cmd))),
  );
  leaf(peers, 'show <peerId>', 'one peer with its credentials').action(
    run((cmd) => actions.peers('show', cmd.args, flags(cmd))),
  );
  peerFieldOptions(leaf(peers, 'update <peerId>', 'change a peer; only the options given change'), false)
    .option('--status <status>', `${statuses}: a disabled peer is refused at once`)
    .option('--clear-signing-secret', 'remove the stored signing secret')
    .option('--clear-outbound', 'remove the outbound webhook endpoint (and its deliveries)')
    .action(run((cmd) => actions.peers('update', cmd.args, flags(cmd))));
  leaf(
    peers,
    'rotate <peerId>',
    'issue a new credential; the current one keeps working for the overlap window',
  )
    .option('--expires-in-days <days>', 'lifetime of the new credential (default: the rotation policy)')
    .option(
      '--revoke-old',
      'revoke every older credential now (after a suspected leak) instead of letting it retire',
    )
    .action(run((cmd) => actions.peers('rotate', cmd.args, flags(cmd))));
  leaf(
    peers,
    'revoke <peerId> <credentialId>',
    'revoke one credential; every gateway refuses it within ms',
  ).action(run((cmd) => actions.peers('revoke', cmd.args, flags(cmd))));
  leaf(peers, 'audit [peerId]', 'the peer administration audit log, newest first (all peers without an id)')
    .option('--limit <n>', 'at most this many entries (default 100)', positiveInt('--limit'))
    .action(run((cmd) => actions.peers('audit', cmd.args, flags(cmd))));

  const operators = program
    .command('operators')
    .description('operator accounts of the console (the first admin is made here or with the ADMIN_TOKEN)');
  leaf(operators, 'create', 'create an operator; without --password-stdin a one-time password is printed')
    .option('--email <email>', 'sign-in email (required)')
    .option('--name <name>', 'display name (default: the part of the email before @)')
    .option('--role <role>', 'admin | supervisor | manager | auditor (required)')
    .option(
      '--manager-id <uuid>',
      'for a manager: its row in managers (whose leads, contacts, calls it sees)',
    )
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .action(run((cmd) => actions.operators('create', flags(cmd))));
  leaf(operators, 'list', 'list operators (never a hash or a secret)').action(
    run((cmd) => actions.operators('list', flags(cmd))),
  );

  const secrets = program.command('secrets').description('stored secrets (provider signing secrets)');
  leaf(secrets, 'rewrap', 're-encrypt every stored secret under the newest master key').action(
    run(() => actions.secretsRewrap()),
  );

  const accessLog = program
    .command('access-log')
    .description('the interface access log: search, export, deletion, partitions');
  accessLogFilterOptions(
    leaf(accessLog, 'search', 'search calls, newest first; a table, or JSON with --json'),
  )
    .option('--limit <n>', 'page size, 1-1000 (default 100)')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action(run((cmd) => actions.accessLog('search', flags(cmd))));
  accessLogFilterOptions(
    leaf(accessLog, 'export', 'export matching calls (a backup); to stdout, or a file with --out'),
  )
    .option('--format <format>', `${EXPORT_FORMATS.join('|')} (required)`)
    .option('--out <file>', 'write to this file instead of standard output (prints a summary)')
    .action(run((cmd) => actions.accessLog('export', flags(cmd))));
  leaf(accessLog, 'delete', 'delete the calls in [from, to), partition-aware and audited')
    .option('--from <iso>', 'first instant deleted (ISO 8601, required)')
    .option('--to <iso>', 'first instant kept (ISO 8601, required)')
    .option('--yes', 'do not ask for confirmation (required when not run interactively)')
    .action(run((cmd) => actions.accessLog('delete', flags(cmd))));
  leaf(accessLog, 'audit', 'the access-log audit trail (exports, deletions), newest first')
    .option('--limit <n>', 'at most this many entries, 1-1000 (default 100)')
    .action(run((cmd) => actions.accessLog('audit', flags(cmd))));
  leaf(accessLog, 'partitions', 'the day partitions with their row counts').action(
    run((cmd) => actions.accessLog('partitions', flags(cmd))),
  );
  leaf(accessLog, 'maintain', 'one maintenance pass: create partitions ahead, drop expired ones')
    .option('--now <iso>', 'run as if it were this ISO 8601 date-time (default: now)')
    .option(
      '--yes',
      'confirm a --now in the future (it drops every partition that would have expired by then)',
    )
    .action(run((cmd) => actions.accessLog('maintain', flags(cmd))));

  const inbox = program
    .command('inbox')
    .description('the inbox markers (processed_events): week partitions of the idempotency window');
  leaf(inbox, 'partitions', 'the week partitions with their row counts').action(
    run((cmd) => actions.inbox('partitions', flags(cmd))),
  );
  leaf(inbox, 'maintain', 'one maintenance pass: create partitions ahead, drop days past the window')
    .option('--now <iso>', 'run as if it were this ISO 8601 date-time (default: now)')
    .option(
      '--yes',
      'confirm a --now in the future (it drops every day the window would have passed by then)',
    )
    .action(run((cmd) => actions.inbox('maintain', flags(cmd))));

  const retention = program
    .command('retention')
    .description('the tables that grow with traffic: outbox, outbound deliveries, messages, one-time codes');
  leaf(retention, 'maintain', 'one pass: delete their settled rows past the retention days')
    .option('--now <iso>', 'run as if it were this ISO 8601 date-time (default: now)')
    .option('--yes', 'confirm a --now in the future (it deletes rows that have not expired yet)')
    .action(run((cmd) => actions.retention(flags(cmd))));

  const limit = (cmd: Command) => (cmd.getOptionValue('limit') as number | undefined) ?? 100;
  leaf(
    program,
    'dlq-list <connector>',
    `show dead-lettered messages and why (${connectors}); they stay queued`,
  )
    .option('--limit <n>', 'at most this many messages (default 100)', positiveInt('--limit'))
    .action(run((cmd) => actions.dlqList(connectorArg(cmd.args[0]), limit(cmd))));
  leaf(
    program,
    'dlq-replay <connector>',
    `re-publish dead-lettered messages with their routing key (${connectors})`,
  )
    .option('--limit <n>', 'at most this many messages (default 100)', positiveInt('--limit'))
    .action(run((cmd) => actions.dlqReplay(connectorArg(cmd.args[0]), limit(cmd))));

  const erp = program.command('erp').description('ERP exchange (1C CommerceML) run by hand');
  leaf(
    erp,
    'import <file>',
    "upload a CommerceML file (import.xml, offers.xml or a zip) through the gateway's 1C exchange, as 1C does",
  )
    .requiredOption('--peer <peerId>', 'the 1C peer to upload as')
    .option('--token <token>', "the peer's issued credential (default: SWITCHBOARD_PEER_TOKEN)")
    .option('--gateway <url>', 'gateway base URL (default: SWITCHBOARD_GATEWAY_URL or http://127.0.0.1:8080)')
    .option('--type <type>', "exchange type: 'catalog' (default) or 'sale'")
    .action(run((cmd) => actions.erpImport(cmd.args[0], flags(cmd))));

  const backup = program
    .command('backup')
    .description(
      'encrypted backups of the database (CRM data, peers, configuration) under the master keyring',
    );
  leaf(backup, 'create <file>', 'write a consistent, encrypted dump of the database to FILE')
    .option(
      '--with-access-log',
      'include the interface access log (left out by default: large, exported on its own)',
    )
    .action(run((cmd) => actions.backup('create', cmd.args[0], flags(cmd))));
  leaf(backup, 'verify <file>', 'decrypt FILE and check it against its manifest; no database needed').action(
    run((cmd) => actions.backup('verify', cmd.args[0], flags(cmd))),
  );
  leaf(
    backup,
    'restore <file>',
    'restore FILE into an EMPTY database (DATABASE_URL); runs the migrations first',
  ).action(run((cmd) => actions.backup('restore', cmd.args[0], flags(cmd))));
  const messaging = program
    .command('messaging')
    .description('customer messages (one-time codes, order status) over WhatsApp and SMS');
  const creds = messaging
    .command('credentials')
    .description(
      "Switchboard's own WhatsApp and SMS.ru credentials, sealed under the keyring; never printed",
    );
  leaf(creds, 'set <provider>', "store (or replace) a provider's credentials: whatsapp or smsru")
    .option('--file <path>', 'a JSON file with the credentials (- for standard input); see the README')
    .action(run((cmd) => actions.messageCredentials('set', cmd.args, flags(cmd))));
  leaf(creds, 'list', 'which providers have credentials (never the values)').action(
    run((cmd) => actions.messageCredentials('list', cmd.args, flags(cmd))),
  );
  leaf(creds, 'remove <provider>', "delete a provider's credentials (its channel stops being used)").action(
    run((cmd) => actions.messageCredentials('remove', cmd.args, flags(cmd))),
  );
  leaf(creds, 'rewrap', 're-encrypt stored provider credentials under the newest master key').action(
    run((cmd) => actions.messageCredentials('rewrap', cmd.args, flags(cmd))),
  );

  // On every command that prints a result, so scripts may put it anywhere after the command.
  const addJson = (cmd: Command): void => {
    if (cmd.commands.length) cmd.commands.forEach(addJson);
    else cmd.option('--json', JSON_HELP);
  };
  program.commands.forEach(addJson);
  return program;
}

function connectorArg(name: string): string {
  if (!(name in CONNECTORS))
    throw new CliUsageError(`name a connector: ${Object.keys(CONNECTORS).join(', ')} (got "${name}")`);
  return name;
}

/**
 * Runs argv (without node and the script) and resolves the exit code: usage errors (commander's, and
 * CliUsageError) are 2 after commander printed the message and suggestion; a failed command is 1.
 */
export async function runCli(
  program: Command,
  argv: string[],
  writeErr: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  if (!argv.length) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof CliUsageError) {
      writeErr(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    writeErr(`error: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}
