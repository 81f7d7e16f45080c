import 'reflect-metadata';
import { ConfigError, loadConfig } from '@switchboard/config';
import fastifyCookie from '@fastify/cookie';
import { createHttpApp, listen } from '@switchboard/http';
import { createLogger, MetricsListener } from '@switchboard/observability';
import { sinkConfigProblems } from './alerts/alert-sinks';
import { ConsoleAccessLog } from './console-access-log.hook';
import { ConsoleModule } from './console.module';
import { refuseUnusableParams } from './query-params';
import { installWebConsole } from './web';

async function main(): Promise<void> {
  process.title = 'switchboard-console';
  const config = loadConfig(process.env, [
    'database',
    'amqp',
    'console',
    'http',
    'crm',
    'peerAuth',
    'alerts',
    'accessLog',
    'log',
  ]);
  const alertProblems = sinkConfigProblems(config.alerts);
  if (alertProblems.length) throw new ConfigError(alertProblems);
  const logger = createLogger('console', config.log.level, config.log.format);
  const app = await createHttpApp(ConsoleModule, { logger, limits: config.http, tls: config.http.tls });
  // Cookies: the operator session (sb_session). HTML form posts (application/x-www-form-urlencoded) need no
  // plugin: Nest's FastifyAdapter already registers a parser for them, and @fastify/formbody would clash with it.
  await app.register(fastifyCookie);
  // Before listen(): Fastify gives routes the hooks present when they are registered (at init).
  refuseUnusableParams(app.getHttpAdapter().getInstance());
  app.get(ConsoleAccessLog).install(app.getHttpAdapter().getInstance());
  installWebConsole(app);
  const url = await listen(app, config.console.port, config.console.host);
  const metricsUrl = await app
    .get(MetricsListener)
    .listen(config.console.metricsPort, config.http.metricsHost);
  logger.log(`console listening on ${url}; metrics and health details on ${metricsUrl}`, 'Bootstrap');
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
