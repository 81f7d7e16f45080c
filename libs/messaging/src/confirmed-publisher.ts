import { Logger } from '@nestjs/common';
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { BrokerUnavailableError } from '@switchboard/contracts';
import { AmqpConnection } from './amqp-connection';

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  returned: boolean;
}

export interface PublishOptions {
  messageId: string;
  headers?: Record<string, unknown>;
  correlationId?: string;
  type?: string;
}

/**
 * Publishes with publisher confirms and `mandatory`, so a resolved publish means the broker has the message
 * in at least one durable queue. Rejects (never resolves) when the broker is down, nacks, returns the
 * message as unroutable, or does not confirm in time. Bounded in-flight: beyond `maxUnconfirmed` callers wait
 * for a slot, up to the same timeout — backpressure instead of unbounded memory.
 */
export class ConfirmedPublisher {
  private readonly logger = new Logger('ConfirmedPublisher');
  private channel: ConfirmChannel | null = null;
  private readonly pending = new Map<string, Pending>();
  private waiters: Array<() => void> = [];

  constructor(
    private readonly connection: AmqpConnection,
    private readonly timeoutMs: number,
    private readonly maxUnconfirmed: number,
  ) {
    connection.onConnect((conn) => this.open(conn));
  }

  get ready(): boolean {
    return this.channel !== null;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async publish(exchange: string, routingKey: string, body: Buffer, opts: PublishOptions): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (this.pending.size >= this.maxUnconfirmed) {
      if (!(await this.waitForSlot(deadline - Date.now()))) {
        throw new BrokerUnavailableError('Too many events awaiting broker confirmation; retry shortly.');
      }
    }
    const ch = this.channel;
    if (!ch) throw new BrokerUnavailableError();
    if (this.pending.has(opts.messageId)) throw new Error(`duplicate in-flight messageId ${opts.messageId}`);

    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.settle(
            opts.messageId,
            new BrokerUnavailableError('The broker did not confirm the event in time.'),
          ),
        Math.max(1, deadline - Date.now()),
      );
      this.pending.set(opts.messageId, { resolve, reject, timer, returned: false });
      const options: Options.Publish = {
        persistent: true,
        mandatory: true,
        contentType: 'application/json',
        messageId: opts.messageId,
        correlationId: opts.correlationId,
        type: opts.type,
        timestamp: Math.floor(Date.now() / 1000),
        headers: opts.headers,
      };
      try {
        ch.publish(exchange, routingKey, body, options, (err) => {
          const p = this.pending.get(opts.messageId);
          if (err)
            return this.settle(opts.messageId, new BrokerUnavailableError('The broker refused the event.'));
          if (p?.returned) {
            return this.settle(
              opts.messageId,
              new BrokerUnavailableError('No queue is bound for this event.'),
            );
          }
          this.settle(opts.messageId);
        });
      } catch (err) {
        // The channel closed between our check and the write.
        this.logger.warn(`publish failed: ${(err as Error).message}`);
        this.settle(opts.messageId, new BrokerUnavailableError());
      }
    });
  }

  private async open(conn: ChannelModel): Promise<void> {
    const ch = await conn.createConfirmChannel();
    ch.on('return', (msg: Message) => {
      const p = this.pending.get(String(msg.properties.messageId));
      if (p) p.returned = true;
    });
    ch.on('error', (err: Error) => this.logger.warn(`publisher channel error: ${err.message}`));
    ch.on('close', () => {
      if (this.channel === ch) this.channel = null;
      // Whatever was unconfirmed on this channel is unknown: the caller must hear 503, not 202.
      for (const id of [...this.pending.keys()]) this.settle(id, new BrokerUnavailableError());
    });
    this.channel = ch;
  }

  private settle(id: string, err?: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve();
    const next = this.waiters.shift();
    if (next) next();
  }

  private waitForSlot(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      this.waiters.push(wake);
    });
  }
}
