import 'reflect-metadata';
import { AppConfig, loadConfig } from '@switchboard/config';
import { AccessLogPartitions } from '@switchboard/access-log';
import { dataSourceOptions, migrate } from '@switchboard/database';
import { CONNECTORS } from '@switchboard/contracts';
import { peekDeadLetters, replayDeadLetters, TopologyNames } from '@switchboard/messaging';
import * as amqp from 'amqplib';
import { DataSource } from 'typeorm';
import { accessLogSearchCommand } from './access-log-search.cli';
import { accessLogMaintenanceCommand, isAccessLogMaintenanceCommand } from './access-log.cli';
import { erpCommand } from './erp/erp-import.cli';
import { peersCommand, secretsCommand } from './peers.cli';

/**
 * Operator commands that need no running app: `migrate`, `seed-demo`, `peers …`, `secrets rewrap`, `dlq-list`, `dlq-replay`. Output is JSON with --json, so scripts
 * (npm start, CI) can read it; exit code 0 on success, 1 with a readable message otherwise.
 */
const DEMO_MANAGERS = [
  { name: 'Maria Ivanova', email: 'maria@demo.switchboard', extension: '101' },
  { name: 'Oleg Smirnov', email: 'oleg@demo.switchboard', extension: '102' },
  { name: 'Irina Kuznetsova', email: 'irina@demo.switchboard', extension: '103' },
];

async function withDataSource<T>(fn: (ds: DataSource, config: AppConfig) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env, ['database', 'peerAuth', 'log']);
  const ds = new DataSource(dataSourceOptions(config.database.url, 2, 'switchboard-cli'));
  await ds.initialize();
  try {
    return await fn(ds, config);
  } finally {
    await ds.destroy();
  }
}

async function withBroker<T>(fn: (conn: amqp.ChannelModel, names: TopologyNames) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env, ['amqp', 'log']);
  const conn = await amqp.connect(config.amqp.url);
  try {
    return await fn(conn, new TopologyNames(config.amqp.namespace));
  } finally {
    await conn.close().catch(() => undefined);
  }
}

function connectorArg(args: string[]): string {
  const name = args.find((a) => !a.startsWith('--'));
  if (!name || !(name in CONNECTORS)) {
    throw new Error(`name a connector: ${Object.keys(CONNECTORS).join(', ')}`);
  }
  return name;
}

function limitArg(args: string[]): number {
  const i = args.indexOf('--limit');
  const n = i >= 0 ? Number(args[i + 1]) : 100;
  if (!Number.isInteger(n) || n < 1) throw new Error('--limit takes a positive integer');
  return n;
}

const commands: Record<string, (args: string[]) => Promise<unknown>> = {
  migrate: () => withDataSource(async (ds) => ({ applied: await migrate(ds) })),
  'seed-demo': () =>
    withDataSource(async (ds) => {
      await migrate(ds);
      // Idempotent: managers are keyed by extension.
      const rows: Array<{ id: string; name: string; extension: string }> = await ds.query(
        `INSERT INTO managers (name, email, extension)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT (extension) WHERE extension IS NOT NULL DO UPDATE SET name = EXCLUDED.name
         RETURNING id, name, extension`,
        [
          DEMO_MANAGERS.map((m) => m.name),
          DEMO_MANAGERS.map((m) => m.email),
          DEMO_MANAGERS.map((m) => m.extension),
        ],
      );
      return { managers: rows };
    }),
  /** peers create|list|show|update|rotate|revoke|audit: peers and their credentials (create/rotate print the token once). */
  peers: (args) =>
    withDataSource(async (ds, config) => {
      await migrate(ds);
      return peersCommand(ds, config, args);
    }),
  /** secrets rewrap: re-encrypt stored secrets under the newest master key. */
  secrets: (args) => withDataSource((ds, config) => secretsCommand(ds, config, args)),
  /** access-log search|export|delete|audit: search, export (NDJSON/CSV) and deletion of the access log. */
  'access-log': (args) =>
    isAccessLogMaintenanceCommand(args) // partitions | maintain
      ? accessLogMaintenanceCommand(args)
      : withDataSource((ds) =>
          accessLogSearchCommand(
            ds,
            (from, to, actor) => new AccessLogPartitions(ds).deleteRange(from, to, actor),
            args,
          ),
        ),
  /** dlq list <connector> [--limit N]: what is dead-lettered and why (messages stay in the queue). */
  'dlq-list': (args) =>
    withBroker(async (conn, names) => {
      const ch = await conn.createChannel();
      return { deadLetters: await peekDeadLetters(ch, names, connectorArg(args), limitArg(args)) };
    }),
  /** dlq replay <connector> [--limit N]: back to the exchange with the original routing key. */
  'dlq-replay': (args) =>
    withBroker(async (conn, names) => {
      const ch = await conn.createConfirmChannel();
      const replayed = await replayDeadLetters(ch, names, connectorArg(args), limitArg(args));
      return { replayed: replayed.length, messageIds: replayed.map((d) => d.messageId) };
    }),
  /** erp import FILE --peer ID: a one-off CommerceML upload through the gateway's 1C exchange. */
  erp: (args) => erpCommand(args),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(`usage: cli <${Object.keys(commands).join('|')}> [args] [--json]`);
    process.exit(2);
  }
  const result = await command(args);
  // undefined: the command wrote its own output (a table, an export on stdout).
  if (result !== undefined)
    console.log(args.includes('--json') ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
