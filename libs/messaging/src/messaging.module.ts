import { Global, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AmqpConfig, AppConfig } from '@switchboard/config';
import { CONNECTORS } from '@switchboard/contracts';
import type { ReadinessProbe } from '@switchboard/observability';
import { AmqpConnection } from './amqp-connection';
import { ConfirmedPublisher } from './confirmed-publisher';
import { declareTopology, TopologyNames } from './topology';

export function topologyHook(connection: AmqpConnection, cfg: AmqpConfig): void {
  connection.onConnect(async (conn) => {
    const ch = await conn.createChannel();
    try {
      await declareTopology(ch, {
        namespace: cfg.namespace,
        retryDelaysMs: cfg.retryDelaysMs,
        deliveryLimit: cfg.deliveryLimit,
        connectors: CONNECTORS,
      });
    } finally {
      await ch.close().catch(() => undefined);
    }
  });
}

@Injectable()
export class BrokerProbe implements ReadinessProbe {
  readonly name = 'broker';
  constructor(private readonly publisher: ConfirmedPublisher) {}
  async check(): Promise<boolean> {
    return this.publisher.ready;
  }
}

/** Readiness of a connector's consumer; the transport plugs its state in at boot. */
@Injectable()
export class ConsumerProbe implements ReadinessProbe {
  readonly name = 'consumer';
  source: () => boolean = () => false;
  async check(): Promise<boolean> {
    return this.source();
  }
}

@Injectable()
class ConnectionLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly connection: AmqpConnection) {}
  onModuleInit(): void {
    void this.connection.start();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.connection.stop();
  }
}

/** The process's broker connection (topology declared on every connect) and its confirmed publisher. */
@Global()
@Module({
  providers: [
    {
      provide: AmqpConnection,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const connection = new AmqpConnection(config.amqp.url, config.amqp.reconnectDelayMs);
        topologyHook(connection, config.amqp);
        return connection;
      },
    },
    {
      provide: ConfirmedPublisher,
      inject: [AmqpConnection, AppConfig],
      useFactory: (connection: AmqpConnection, config: AppConfig) =>
        new ConfirmedPublisher(connection, config.amqp.publishTimeoutMs, config.amqp.maxUnconfirmed),
    },
    {
      provide: TopologyNames,
      inject: [AppConfig],
      useFactory: (c: AppConfig) => new TopologyNames(c.amqp.namespace),
    },
    BrokerProbe,
    ConsumerProbe,
    ConnectionLifecycle,
  ],
  exports: [AmqpConnection, ConfirmedPublisher, TopologyNames, BrokerProbe, ConsumerProbe],
})
export class MessagingModule {}
