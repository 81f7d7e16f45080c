import 'reflect-metadata';
import { loadConfig } from '@switchboard/config';
import { createHttpApp, listen } from '@switchboard/http';
import { createLogger } from '@switchboard/observability';
import { GatewayModule } from './gateway.module';

async function main(): Promise<void> {
  process.title = 'switchboard-gateway';
  const config = loadConfig(process.env, ['amqp', 'gateway', 'log']);
  const logger = createLogger('gateway', config.log.level, config.log.format);
  const app = await createHttpApp(GatewayModule, { logger, bodyLimitBytes: config.gateway.bodyLimitBytes });
  const url = await listen(app, config.gateway.port, config.gateway.host);
  logger.log(`gateway listening on ${url}`, 'Bootstrap');
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
