import 'reflect-metadata';
import { loadConfig } from '@switchboard/config';
import { createHttpApp, installFastRoutes, listen } from '@switchboard/http';
import { createLogger, MetricsListener } from '@switchboard/observability';
import { GatewayAccessLog } from './access-log.hook';
import { ReplayRelease } from './auth/replay-release.hook';
import { PeerAuthChain } from './auth/peer-auth.chain';
import { PeerAuthGuard } from './auth/peer-auth.guard';
import { FAST_ROUTE_CLASSES, GATEWAY_SECTIONS, GatewayModule } from './gateway.module';

async function main(): Promise<void> {
  process.title = 'switchboard-gateway';
  const config = loadConfig(process.env, [...GATEWAY_SECTIONS]);
  const logger = createLogger('gateway', config.log.level, config.log.format);
  const app = await createHttpApp(GatewayModule, {
    logger,
    bodyLimitBytes: config.gateway.bodyLimitBytes,
    rawBody: true,
    trustProxy: config.gateway.trustProxy,
    limits: config.http,
    tls: config.http.tls,
  });
  // Before listen(): Fastify gives routes the hooks present when they are registered (at init).
  app.get(GatewayAccessLog).install(app.getHttpAdapter().getInstance());
  app.get(ReplayRelease).install(app.getHttpAdapter().getInstance());
  const fastGuards = new Map([[PeerAuthGuard, app.get(PeerAuthChain).hook]]);
  for (const routes of FAST_ROUTE_CLASSES)
    installFastRoutes(app.getHttpAdapter().getInstance(), app.get(routes), fastGuards);
  const url = await listen(app, config.gateway.port, config.gateway.host);
  const metricsUrl = await app
    .get(MetricsListener)
    .listen(config.gateway.metricsPort, config.http.metricsHost);
  logger.log(`gateway listening on ${url}; metrics and health details on ${metricsUrl}`, 'Bootstrap');
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
