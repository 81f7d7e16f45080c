import { Logger } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { DomainError, EventEnvelope, isEnvelope } from '@switchboard/contracts';
import { Correlation } from '@switchboard/observability';
import { lastValueFrom } from 'rxjs';
import { AmqpConnection } from './amqp-connection';
import { ConfirmedPublisher } from './confirmed-publisher';
import { TopologyNames } from './topology';

/** What a handler gets besides the envelope: which attempt this is, and the raw delivery. */
export class EnvelopeContext extends BaseRpcContext<[ConsumeMessage, number]> {
  get message(): ConsumeMessage {
    return this.args[0];
  }
  /** 1 for the first try, 2 after the first retry, ... */
  get attempt(): number {
    return this.args[1];
  }
}

export interface ConsumerOptions {
  connector: string;
  namespace: string;
  prefetch: number;
  retryDelaysMs: number[];
  /** Errors that mean "a dependency is down", not "this message is bad" (e.g. the DB is unreachable). */
  isInfrastructureDown?: (error: unknown) => boolean;
  /** Resolves once the dependency answers again; consumption is paused until then. */
  waitForInfrastructure?: () => Promise<void>;
}

export interface ConsumerEvents {
  processed: (type: string, outcome: 'ok' | 'retry' | 'dead-letter', ms: number) => void;
}

const ATTEMPT_HEADER = 'x-switchboard-attempt';

/**
 * RabbitMQ consumer as a Nest transport. Ack only after the handler (and so its DB transaction) has
 * finished. Failures: a permanent error (invalid contract, unknown type, malformed JSON) goes straight to the
 * dead-letter queue; a transient one walks the retry ladder (TTL queues) and then dead-letters. Moving a
 * message is publish-confirmed before the original is acked, so a crash in between duplicates (which the
 * handler's idempotency absorbs) but never loses.
 */
export class AmqpTransport extends Server implements CustomTransportStrategy {
  private readonly log = new Logger('AmqpTransport');
  private readonly names: TopologyNames;
  private channel: Channel | null = null;
  private consumerTag: string | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  private paused: Promise<void> | null = null;
  onProcessed?: ConsumerEvents['processed'];

  constructor(
    private readonly connection: AmqpConnection,
    private readonly publisher: ConfirmedPublisher,
    private readonly options: ConsumerOptions,
  ) {
    super();
    this.names = new TopologyNames(options.namespace);
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    this.connection.onConnect((conn) => this.consume(conn));
    void this.connection.start();
    callback();
  }

  async close(): Promise<void> {
    this.closing = true;
    // Graceful: let in-flight handlers commit and ack; what arrives meanwhile stays unacked and goes back on close.
    await Promise.allSettled([...this.inFlight]);
    // Then cancel the consumer, and only then close the channel. A quorum queue applies a channel's acks
    // asynchronously: closed right after its last acks, the channel can take some of them along and the broker
    // redelivers messages already committed (e2e connector-shutdown). basic.cancel is applied by the queue in
    // order after those acks and answered once applied, so its reply is the barrier.
    const ch = this.channel;
    if (ch && this.consumerTag) await ch.cancel(this.consumerTag).catch(() => undefined);
    if (this.channel) await this.channel.close().catch(() => undefined);
    await this.connection.stop();
  }

  on(): void {
    throw new Error('AmqpTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.channel as T;
  }

  /** Connected and subscribed, or deliberately paused while a dependency is down. */
  get consuming(): boolean {
    return this.channel !== null && (this.consumerTag !== null || this.paused !== null);
  }

  private async consume(conn: ChannelModel): Promise<void> {
    if (this.closing) return;
    const ch = await conn.createChannel();
    ch.on('error', (err: Error) => this.log.warn(`consumer channel error: ${err.message}`));
    ch.on('close', () => {
      if (this.channel === ch) {
        this.channel = null;
        this.consumerTag = null;
      }
    });
    await ch.prefetch(this.options.prefetch);
    this.channel = ch;
    await this.subscribe(ch);
  }

  private async subscribe(ch: Channel): Promise<void> {
    const { consumerTag } = await ch.consume(this.names.queue(this.options.connector), (msg) => {
      if (!msg) return; // consumer cancelled by the broker (queue deleted); reconnect will re-subscribe
      // Stopping: leave it unacked; closing the channel returns it to the queue once. A nack-requeue here came
      // straight back to this same consumer, again and again while in-flight handlers finished, and every
      // round trip counted toward the quorum queue's delivery limit until the broker dead-lettered it.
      if (this.closing) return;
      const work = this.handle(ch, msg).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    });
    this.consumerTag = consumerTag;
    this.log.log(`consuming ${this.names.queue(this.options.connector)} (prefetch ${this.options.prefetch})`);
  }

  /**
   * A dependency is down: stop taking messages until it answers again, then resume on the same channel. The
   * messages that were already here are parked on the retry queue without spending an attempt.
   */
  private pause(ch: Channel): void {
    if (this.paused || !this.options.waitForInfrastructure) return;
    const tag = this.consumerTag;
    this.consumerTag = null;
    this.log.warn('dependency unavailable: pausing consumption');
    this.paused = (async () => {
      if (tag) await ch.cancel(tag).catch(() => undefined);
      await this.options.waitForInfrastructure!();
      if (!this.closing && this.channel === ch) await this.subscribe(ch);
      this.log.log('dependency back: consumption resumed');
    })()
      .catch((err: Error) => this.log.error(`resume failed: ${err.message}`))
      .finally(() => {
        this.paused = null;
      });
  }

  private async handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const started = Date.now();
    const attempt = Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 1) || 1;
    let envelope: EventEnvelope | null = null;
    try {
      const parsed = parseJson(msg.content);
      if (!isEnvelope(parsed)) throw new PoisonMessage('MALFORMED_MESSAGE', 'not an event envelope');
      envelope = parsed;
      const handler = this.handlerOf(envelope.type);
      if (!handler) throw new PoisonMessage('UNKNOWN_EVENT_TYPE', `no handler for ${envelope.type}`);
      const correlationId = String(msg.properties.correlationId ?? envelope.traceId);
      const env = envelope;
      await Correlation.run({ correlationId, eventId: env.id, peerId: env.peerId }, async () => {
        const result: unknown = await handler(env, new EnvelopeContext([msg, attempt]));
        await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
      });
      this.ack(ch, msg);
      this.onProcessed?.(envelope.type, 'ok', Date.now() - started);
    } catch (error) {
      const type = envelope?.type ?? 'unknown';
      const outcome = await this.fail(ch, msg, attempt, error).catch((err: Error) => {
        // Could not move it (broker trouble): leave it unacked; it will be redelivered.
        this.log.warn(`could not reroute failed message: ${err.message}`);
        this.nack(ch, msg);
        return 'retry' as const;
      });
      this.onProcessed?.(type, outcome, Date.now() - started);
    }
  }

  /**
   * The handler of an event type, looked up once per type: Nest's getHandlerByPattern first tries JSON.parse on
   * the pattern, which throws for every plain type name (an exception per message). Unknown types are not kept
   * (poison messages could name any number of them).
   */
  private handlerOf(type: string): ReturnType<Server['getHandlerByPattern']> {
    const known = this.handlersByType.get(type);
    if (known) return known;
    const handler = this.getHandlerByPattern(type);
    if (handler) this.handlersByType.set(type, handler);
    return handler;
  }

  private readonly handlersByType = new Map<string, NonNullable<ReturnType<Server['getHandlerByPattern']>>>();

  private async fail(
    ch: Channel,
    msg: ConsumeMessage,
    attempt: number,
    error: unknown,
  ): Promise<'retry' | 'dead-letter'> {
    if (this.options.isInfrastructureDown?.(error) && this.options.retryDelaysMs.length) {
      this.pause(ch);
      await this.park(msg, attempt, error);
      this.ack(ch, msg);
      return 'retry';
    }
    const code =
      error instanceof DomainError || error instanceof PoisonMessage ? error.code : 'HANDLER_FAILED';
    const permanent = error instanceof PoisonMessage || (error instanceof DomainError && error.permanent);
    const message = error instanceof Error ? error.message : String(error);
    const delays = this.options.retryDelaysMs;
    const connector = this.options.connector;
    const messageId = String(
      msg.properties.headers?.['x-original-message-id'] ?? msg.properties.messageId ?? '',
    );

    if (!permanent && attempt <= delays.length) {
      const delay = delays[attempt - 1];
      this.log.warn(`attempt ${attempt} of ${messageId} failed (${code}: ${message}); retry in ${delay} ms`);
      await this.publisher.publish('', this.names.retryQueue(connector, delay), msg.content, {
        messageId: `${messageId}#retry${attempt}`,
        correlationId: msg.properties.correlationId as string | undefined,
        type: msg.properties.type as string | undefined,
        headers: {
          ...msg.properties.headers,
          [ATTEMPT_HEADER]: attempt + 1,
          'x-original-routing-key': originalRoutingKey(msg),
          'x-last-error': `${code}: ${message}`.slice(0, 2000),
          'x-original-message-id': messageId,
        },
      });
      this.ack(ch, msg);
      return 'retry';
    }
    this.log.error(`dead-lettering ${messageId} after ${attempt} attempt(s): ${code}: ${message}`);
    await this.publisher.publish('', this.names.deadLetterQueue(connector), msg.content, {
      messageId: `${messageId}#dlq`,
      correlationId: msg.properties.correlationId as string | undefined,
      type: msg.properties.type as string | undefined,
      headers: {
        ...msg.properties.headers,
        'x-error-code': code,
        'x-error-message': message.slice(0, 2000),
        'x-attempts': attempt,
        'x-failed-at': new Date().toISOString(),
        'x-original-routing-key': originalRoutingKey(msg),
        'x-original-message-id': messageId,
      },
    });
    this.ack(ch, msg);
    return 'dead-letter';
  }

  /** Back onto the first retry queue with the attempt count unchanged: the message itself is not at fault. */
  private async park(msg: ConsumeMessage, attempt: number, error: unknown): Promise<void> {
    const delay = this.options.retryDelaysMs[0];
    const messageId = String(
      msg.properties.headers?.['x-original-message-id'] ?? msg.properties.messageId ?? '',
    );
    await this.publisher.publish('', this.names.retryQueue(this.options.connector, delay), msg.content, {
      messageId: `${messageId}#parked${Date.now()}${Math.random().toString(36).slice(2, 8)}`,
      correlationId: msg.properties.correlationId as string | undefined,
      type: msg.properties.type as string | undefined,
      headers: {
        ...msg.properties.headers,
        [ATTEMPT_HEADER]: attempt,
        'x-original-routing-key': originalRoutingKey(msg),
        'x-last-error':
          `DEPENDENCY_UNAVAILABLE: ${error instanceof Error ? error.message : String(error)}`.slice(0, 2000),
        'x-original-message-id': messageId,
      },
    });
  }

  /** A delivery tag is only valid on the channel that delivered it; after a reconnect the broker redelivers. */
  private ack(ch: Channel, msg: ConsumeMessage): void {
    if (this.channel === ch) ch.ack(msg);
  }

  private nack(ch: Channel, msg: ConsumeMessage): void {
    if (this.channel === ch) ch.nack(msg, false, true);
  }
}

function parseJson(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8'));
  } catch {
    throw new PoisonMessage('MALFORMED_MESSAGE', 'body is not JSON');
  }
}

/** After a retry hop the routing key is the queue name; the event type's key travels in a header. */
function originalRoutingKey(msg: ConsumeMessage): string {
  return String(msg.properties.headers?.['x-original-routing-key'] ?? msg.fields.routingKey);
}

export class PoisonMessage extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
