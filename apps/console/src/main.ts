import 'reflect-metadata';
import { ConfigError, loadConfig } from '@switchboard/config';
import { createHttpApp, listen } from '@switchboard/http';
import { createLogger } from '@switchboard/observability';
import { sinkConfigProblems } from './alerts/alert-sinks';
import { ConsoleAccessLog } from './console-access-log.hook';
import { ConsoleModule } from './console.module';

async function main(): Promise<void> {
  process.title = 'switchboard-console';
  const config = loadConfig(process.env, [
    'database',
    'amqp',
    'console',
    'crm',
    'peerAuth',
    'alerts',
    'accessLog',
    'log',
  ]);
  const alertProblems = sinkConfigProblems(config.alerts);
  if (alertProblems.length) throw new ConfigError(alertProblems);
  const logger = createLogger('console', config.log.level, config.log.format);
  const app = await createHttpApp(ConsoleModule, { logger });
  // Before listen(): Fastify gives routes the hooks present when they are registered (at init).
  app.get(ConsoleAccessLog).install(app.getHttpAdapter().getInstance());
  const url = await listen(app, config.console.port, config.console.host);
  logger.log(`console listening on ${url}`, 'Bootstrap');
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
