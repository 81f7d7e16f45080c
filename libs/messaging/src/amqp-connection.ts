import { Logger } from '@nestjs/common';
import * as amqp from 'amqplib';
import { EventEmitter } from 'node:events';
import { coalesceWrites } from './coalesced-writes';

export type ConnectHook = (conn: amqp.ChannelModel) => Promise<void>;

/**
 * One AMQP connection per process that always tries to be up: it reconnects after a broker restart or a
 * network cut and re-runs every registered hook (topology, publisher channel, consumers) on each connect.
 */
export class AmqpConnection extends EventEmitter {
  private readonly logger = new Logger('AmqpConnection');
  private conn: amqp.ChannelModel | null = null;
  private hooks: ConnectHook[] = [];
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly reconnectDelayMs: number,
  ) {
    super();
    this.setMaxListeners(50);
  }

  get connected(): boolean {
    return this.conn !== null;
  }

  /** Hooks run in registration order on every connect; register topology first. */
  onConnect(hook: ConnectHook): void {
    this.hooks.push(hook);
    if (this.conn) {
      const conn = this.conn;
      hook(conn).catch((err: Error) => this.fail(conn, err));
    }
  }

  start(): Promise<void> {
    if (!this.stopped) return this.connecting ?? Promise.resolve();
    this.stopped = false;
    return this.connect();
  }

  /** Resolves once connected (or after timeoutMs, returning false). */
  async waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.conn) return true;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.off('connected', ok);
        resolve(false);
      }, timeoutMs);
      const ok = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.once('connected', ok);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const conn = this.conn;
    this.conn = null;
    if (conn) await conn.close().catch(() => undefined);
  }

  private connect(): Promise<void> {
    this.connecting = (async () => {
      let conn: amqp.ChannelModel | null = null;
      let failed = false;
      try {
        conn = await amqp.connect(this.url, { clientProperties: { connection_name: process.title } });
        const opened = conn;
        if (!coalesceWrites(opened)) this.logger.warn('amqplib internals changed: writes are not coalesced');
        opened.on('error', (err: Error) => this.logger.warn(`connection error: ${err.message}`));
        opened.on('close', () => this.onClosed(opened));
        for (const hook of this.hooks) await hook(opened);
        this.conn = opened;
        this.logger.log('connected to the broker');
        this.emit('connected', opened);
      } catch (err) {
        failed = true;
        if (conn) await conn.close().catch(() => undefined);
        this.logger.warn(
          `broker not usable: ${(err as Error).message}; retrying in ${this.reconnectDelayMs} ms`,
        );
      } finally {
        this.connecting = null;
      }
      if (failed) this.scheduleReconnect();
    })();
    return this.connecting;
  }

  private fail(conn: amqp.ChannelModel, err: Error): void {
    this.logger.warn(`connect hook failed: ${err.message}`);
    void conn.close().catch(() => undefined);
  }

  private onClosed(conn: amqp.ChannelModel): void {
    if (this.conn === conn) {
      this.conn = null;
      this.emit('disconnected');
      if (!this.stopped) this.logger.warn('broker connection lost; reconnecting');
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer || this.connecting) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped && !this.conn) void this.connect();
    }, this.reconnectDelayMs);
  }
}
