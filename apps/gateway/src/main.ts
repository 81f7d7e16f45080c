import 'reflect-metadata';
import { loadConfig } from '@switchboard/config';
import { createHttpApp, listen } from '@switchboard/http';
import { createLogger } from '@switchboard/observability';
import { GatewayAccessLog } from './access-log.hook';
import { ReplayRelease } from './auth/replay-release.hook';
import { GATEWAY_SECTIONS, GatewayModule } from './gateway.module';

async function main(): Promise<void> {
  process.title = 'switchboard-gateway';
  const config = loadConfig(process.env, [...GATEWAY_SECTIONS]);
  const logger = createLogger('gateway', config.log.level, config.log.format);
  const app = await createHttpApp(GatewayModule, {
    logger,
    bodyLimitBytes: config.gateway.bodyLimitBytes,
    rawBody: true,
    trustProxy: config.gateway.trustProxy,
  });
  // Before listen(): Fastify gives routes the hooks present when they are registered (at init).
  app.get(GatewayAccessLog).install(app.getHttpAdapter().getInstance());
  app.get(ReplayRelease).install(app.getHttpAdapter().getInstance());
  const url = await listen(app, config.gateway.port, config.gateway.host);
  logger.log(`gateway listening on ${url}`, 'Bootstrap');
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
