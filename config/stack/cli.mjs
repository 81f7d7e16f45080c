#!/usr/bin/env node
// Usage: node config/stack/cli.mjs up [--management]|down|status
//   up     provision (or reuse) PostgreSQL + RabbitMQ and print the URLs as JSON; servers keep running.
//          --management enables the RabbitMQ management UI on http://127.0.0.1:55674 (guest/guest)
//   down   stop the local servers under <repo>/.data, whoever started them
//   status report what answers on the configured ports
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { amqpReady, ensureStack, pgReady, stopPostgres, stopRabbit } from './stack.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ports = { pgPort: 55432, amqpPort: 55672 };
const print = (o) => console.log(JSON.stringify(o, null, 2));

const commands = {
  async up() {
    const { databaseUrl, amqpUrl, mode, started } = await ensureStack({
      root,
      management: process.argv.includes('--management'),
    });
    print({ databaseUrl, amqpUrl, mode, started });
  },
  async down() {
    const [postgres, rabbitmq] = await Promise.all([stopPostgres(root), stopRabbit(root)]);
    print({ stopped: { postgres, rabbitmq } });
  },
  async status() {
    const [postgres, rabbitmq] = await Promise.all([
      pgReady('127.0.0.1', ports.pgPort),
      amqpReady('127.0.0.1', ports.amqpPort),
    ]);
    print({
      postgres: postgres && `127.0.0.1:${ports.pgPort}`,
      rabbitmq: rabbitmq && `127.0.0.1:${ports.amqpPort}`,
    });
    if (!postgres || !rabbitmq) process.exitCode = 1;
  },
};

const cmd = commands[process.argv[2]];
if (!cmd) {
  console.error('usage: node config/stack/cli.mjs up [--management]|down|status');
  process.exit(2);
}
cmd().catch((e) => {
  console.error(`[stack] ${e.message}`);
  process.exit(1);
});
