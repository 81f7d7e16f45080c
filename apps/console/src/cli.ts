import 'reflect-metadata';
import { resolve } from 'node:path';
import { AppConfig, applyLocalDemoDefaults, DEMO_FILE, loadConfig } from '@switchboard/config';
import { AccessLogPartitions } from '@switchboard/access-log';
import { dataSourceOptions, migrate } from '@switchboard/database';
import { peekDeadLetters, replayDeadLetters, TopologyNames } from '@switchboard/messaging';
import * as amqp from 'amqplib';
import { DataSource } from 'typeorm';
import { accessLogSearchCommand } from './access-log-search.cli';
import {
  accessLogMaintenanceCommand,
  inboxMaintenanceCommand,
  retentionCommand,
  isAccessLogMaintenanceCommand,
} from './access-log.cli';
import { buildProgram, CliActions, runCli } from './cli-program';
import { backupCommand } from './backup/backup.cli';
import { erpCommand } from './erp/erp-import.cli';
import { messageCredentialsCommand } from './messaging/message-credentials.cli';
import { peersCommand, secretsCommand } from './peers.cli';
import { operatorsCommand } from './operators/operators.cli';

/**
 * Operator commands that need no running app: `migrate`, `seed-demo`, `peers …`, `secrets rewrap`, `access-log …`,
 * `dlq-list`, `dlq-replay` (`--help` on each). Output is JSON (one line with --json, so scripts such as npm start
 * can read it); exit codes 0 ok, 1 failed, 2 usage error (cli-program.ts).
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

/** What each command does; argv parsing and help live in cli-program.ts, configuration in loadConfig above. */
const actions: CliActions = {
  migrate: () => withDataSource(async (ds) => ({ applied: await migrate(ds) })),
  seedDemo: () =>
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
  peers: (sub, args, values) =>
    withDataSource(async (ds, config) => {
      await migrate(ds);
      return peersCommand(ds, config, sub, args, values);
    }),
  messageCredentials: (sub, args, values) =>
    withDataSource(async (ds) => {
      await migrate(ds);
      return messageCredentialsCommand(ds, sub, args, values);
    }),
  operators: (sub, values) =>
    withDataSource(async (ds) => {
      await migrate(ds);
      // The console section (password policy, TOTP roles) and alerts (reset mail) as the console app reads them.
      const config = loadConfig(process.env, ['database', 'peerAuth', 'console', 'alerts', 'log']);
      return operatorsCommand(ds, config, sub, values);
    }),
  secretsRewrap: () => withDataSource((ds, config) => secretsCommand(ds, config)),
  accessLog: (sub, values) =>
    isAccessLogMaintenanceCommand(sub) // partitions | maintain
      ? accessLogMaintenanceCommand(sub, values)
      : withDataSource((ds) =>
          accessLogSearchCommand(
            ds,
            (from, to, actor) => new AccessLogPartitions(ds).deleteRange(from, to, actor),
            sub,
            values,
          ),
        ),
  inbox: (sub, values) => inboxMaintenanceCommand(sub, values),
  retention: (values) => retentionCommand(values),
  dlqList: (connector, limit) =>
    withBroker(async (conn, names) => {
      const ch = await conn.createChannel();
      return { deadLetters: await peekDeadLetters(ch, names, connector, limit) };
    }),
  erpImport: (file, values) =>
    erpCommand([
      'import',
      file,
      ...Object.entries(values)
        .filter(([k, v]) => k !== 'json' && typeof v === 'string')
        .flatMap(([k, v]) => [`--${k}`, String(v)]),
    ]),
  backup: (sub, file, values) => backupCommand(sub, file, values),
  dlqReplay: (connector, limit) =>
    withBroker(async (conn, names) => {
      const ch = await conn.createConfirmChannel();
      const replayed = await replayDeadLetters(ch, names, connector, limit);
      // Close the channel before the connection: acks still in flight when the connection closes were seen
      // dropped by RabbitMQ quorum queues, leaving the replayed message in the dead-letter queue.
      await ch.close();
      return { replayed: replayed.length, messageIds: replayed.map((d) => d.messageId) };
    }),
};

/** undefined: the command wrote its own output (a table, an export on stdout). */
function print(result: unknown, json: boolean): void {
  if (result !== undefined) console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}

/** The checkout this CLI was built in (dist/apps/console/src/cli.js -> the repository root). */
const CHECKOUT = resolve(__dirname, '../../../..');

// A second terminal next to `npm start`: its demo settings stand in for unset variables.
const fromDemo = applyLocalDemoDefaults(process.env, CHECKOUT);
if (fromDemo.length) console.error(`(local demo: ${fromDemo.join(', ')} from ${DEMO_FILE})`);

void runCli(buildProgram(actions, print), process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
