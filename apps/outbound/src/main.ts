import 'reflect-metadata';
import { loadConfig } from '@switchboard/config';
import { createHttpApp, listen } from '@switchboard/http';
import { createLogger } from '@switchboard/observability';
import { OUTBOUND_SECTIONS, OutboundModule } from './outbound.module';

/**
 * apps/outbound: CRM changes -> signed webhooks to peers; one-time codes and order-status messages over WhatsApp
 * and SMS. Its one listener serves /health and /metrics.
 */
async function main(): Promise<void> {
  process.title = 'switchboard-outbound';
  const config = loadConfig(process.env, [...OUTBOUND_SECTIONS]);
  const logger = createLogger('outbound', config.log.level, config.log.format);
  const app = await createHttpApp(OutboundModule, { logger });
  const url = await listen(app, config.outbound.port, config.outbound.host);
  logger.log(`outbound delivering webhooks and customer messages; health and metrics on ${url}`, 'Bootstrap');
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
