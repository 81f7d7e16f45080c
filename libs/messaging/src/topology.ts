import type { Channel } from 'amqplib';

export interface TopologyOptions {
  namespace: string;
  retryDelaysMs: number[];
  deliveryLimit: number;
  connectors: Record<string, { bindings: readonly string[] }>;
}

/** Every name on the broker derives from the namespace, so tests and tenants can share one broker. */
export class TopologyNames {
  constructor(readonly namespace: string) {}
  get exchange(): string {
    return `${this.namespace}.events`;
  }
  queue(connector: string): string {
    return `${this.namespace}.${connector}`;
  }
  retryQueue(connector: string, delayMs: number): string {
    return `${this.queue(connector)}.retry.${delayMs}ms`;
  }
  deadLetterQueue(connector: string): string {
    return `${this.queue(connector)}.dlq`;
  }
}

// at-least-once dead-lettering (quorum queues) needs reject-publish overflow; it keeps a message in its
// source queue until the dead-letter target has confirmed it, instead of dropping it on the way.
const SAFE_DEAD_LETTERING = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };

/**
 * Declares the whole topology; idempotent, run on every (re)connect by every app, so events are kept in
 * a connector's queue even before that connector has ever run.
 *
 *   exchange <ns>.events (topic)
 *     -> <ns>.<connector>                    quorum, delivery limit; dead-letters to .dlq
 *   <ns>.<connector>.retry.<delay>ms         quorum, TTL = delay; expires back into the main queue
 *   <ns>.<connector>.dlq                     quorum; poison and exhausted messages, with their error
 */
export async function declareTopology(ch: Channel, opts: TopologyOptions): Promise<void> {
  const names = new TopologyNames(opts.namespace);
  await ch.assertExchange(names.exchange, 'topic', { durable: true });
  for (const [connector, { bindings }] of Object.entries(opts.connectors)) {
    const main = names.queue(connector);
    const dlq = names.deadLetterQueue(connector);
    await ch.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.assertQueue(main, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': opts.deliveryLimit,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': dlq,
        ...SAFE_DEAD_LETTERING,
      },
    });
    for (const key of bindings) await ch.bindQueue(main, names.exchange, key);
    for (const delay of opts.retryDelaysMs) {
      await ch.assertQueue(names.retryQueue(connector, delay), {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': main,
          ...SAFE_DEAD_LETTERING,
        },
      });
    }
  }
}
