import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { CONNECTORS, NotFoundError } from '@switchboard/contracts';
import { DeadLetter, peekDeadLetters, replayDeadLetters, TopologyNames } from '@switchboard/messaging';
import * as amqp from 'amqplib';

/** How many dead letters of a connector the page lists (the oldest first, as they would be replayed). */
export const DEAD_LETTER_PAGE = 50;
export const MAX_REPLAY = 1000;

/**
 * The dead-letter queues for the web console, with the same functions as `cli dlq-list` / `dlq-replay`:
 * listing requeues every message unchanged; replay re-publishes with confirms before acking, so a crash
 * duplicates (the connector's inbox absorbs it) and never loses.
 */
@Injectable()
export class DeadLettersService {
  private readonly names: TopologyNames;

  constructor(private readonly config: AppConfig) {
    this.names = new TopologyNames(config.amqp.namespace);
  }

  connectors(): string[] {
    return Object.keys(CONNECTORS);
  }

  async list(connector: string): Promise<DeadLetter[]> {
    this.mustBeConnector(connector);
    return this.withConnection(async (conn) => {
      const ch = await conn.createChannel();
      try {
        return await peekDeadLetters(ch, this.names, connector, DEAD_LETTER_PAGE);
      } catch (err) {
        if (/NOT_FOUND|404/.test((err as Error).message)) return []; // no queue yet: nothing dead-lettered
        throw err;
      } finally {
        await ch.close().catch(() => undefined);
      }
    });
  }

  async replay(connector: string, limit: number): Promise<DeadLetter[]> {
    this.mustBeConnector(connector);
    return this.withConnection(async (conn) => {
      const ch = await conn.createConfirmChannel();
      const replayed = await replayDeadLetters(ch, this.names, connector, limit);
      // Close the channel (not just the connection) before answering: measured against RabbitMQ 4 quorum
      // queues, acks still in flight when the connection closes were dropped and the replayed message stayed
      // in the dead-letter queue (replayed again next time; the inbox absorbs it, but the page would lie).
      await ch.close();
      return replayed;
    });
  }

  private mustBeConnector(connector: string): void {
    if (!Object.hasOwn(CONNECTORS, connector)) throw new NotFoundError(`No connector ${connector}.`);
  }

  private async withConnection<T>(fn: (conn: amqp.ChannelModel) => Promise<T>): Promise<T> {
    const conn = await amqp.connect(this.config.amqp.url, { timeout: 5000 });
    conn.on('error', () => undefined);
    try {
      return await fn(conn);
    } finally {
      await conn.close().catch(() => undefined);
    }
  }
}
