// Provisions real PostgreSQL + RabbitMQ for the e2e suites the same way `npm start` does (env URLs, a Docker
// engine, or local servers under .data/), reusing servers that already run.
import { ensureStack } from '../../../config/stack/stack.mjs';

export default async function globalSetup() {
  process.env.NODE_ENV = 'test';
  const stack = await ensureStack({ log: (m) => process.stderr.write(`[stack] ${m}\n`) });
  process.env.TEST_DATABASE_URL = stack.databaseUrl;
  process.env.TEST_AMQP_URL = stack.amqpUrl;
  process.env.TEST_STACK_MODE = stack.mode;
  globalThis.__SWITCHBOARD_STACK__ = stack;
}
