import { INestApplicationContext, Type } from '@nestjs/common';
import { AppConfig, ConfigSection, ConnectorConfig, loadConfig } from '@switchboard/config';
import { createHttpApp, listen } from '@switchboard/http';
import { createLogger, Metrics } from '@switchboard/observability';
import { AmqpConnection } from './amqp-connection';
import { AmqpTransport, ConsumerOptions } from './amqp-transport';
import { ConfirmedPublisher } from './confirmed-publisher';
import { ConsumerProbe } from './messaging.module';

/**
 * Boots a connector: its Nest module's @EventPattern handlers consume <ns>.<connector>; /health and /metrics
 * are served over HTTP. A new connector's main.ts is one call to this.
 */
export async function runConnector(
  connector: string,
  module: Type<unknown>,
  httpConfig: (config: AppConfig) => ConnectorConfig,
  sections: ConfigSection[],
  /** Lets the connector tell the transport which failures mean "a dependency is down" and how to wait. */
  hooks?: (
    app: INestApplicationContext,
  ) => Pick<ConsumerOptions, 'isInfrastructureDown' | 'waitForInfrastructure'>,
): Promise<void> {
  process.title = `switchboard-${connector}`;
  const config = loadConfig(process.env, sections);
  const logger = createLogger(connector, config.log.level, config.log.format);
  const app = await createHttpApp(module, { logger });
  const metrics = app.get(Metrics);
  const processed = metrics.counter('switchboard_consumed_total', 'Messages consumed', ['type', 'outcome']);
  const duration = metrics.histogram(
    'switchboard_consume_seconds',
    'Handler time per message',
    ['type'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
  );
  const transport = new AmqpTransport(app.get(AmqpConnection), app.get(ConfirmedPublisher), {
    connector,
    namespace: config.amqp.namespace,
    prefetch: httpConfig(config).prefetch ?? config.amqp.prefetch,
    retryDelaysMs: config.amqp.retryDelaysMs,
    ...hooks?.(app),
  });
  app.get(ConsumerProbe).source = () => transport.consuming;
  transport.onProcessed = (type, outcome, ms) => {
    processed.inc({ type, outcome });
    duration.observe({ type }, ms / 1000);
  };
  // inheritAppConfig: the app's edge filter hands AMQP handler errors to the transport untouched.
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  const { port, host } = httpConfig(config);
  const url = await listen(app, port, host);
  logger.log(`${connector} consuming; health and metrics on ${url}`, 'Bootstrap');
}
