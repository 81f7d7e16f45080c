import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { loadDirectory, PeerDirectory, sqlFromPool, type SqlDb } from '@switchboard/peer-auth';
import { SecretBox, SecretDecryptError } from '@switchboard/secrets';
import type { ReadinessProbe } from '@switchboard/observability';
import { Client, Pool } from 'pg';

const CHANNEL = 'switchboard_peers';

/**
 * Keeps the gateway's PeerDirectory in step with PostgreSQL: a full load at start, LISTEN/NOTIFY for changes
 * (a revocation reaches every gateway within milliseconds), and a periodic full reload as a safety net. When
 * the database is down the last snapshot keeps serving, so ingest continues (invariant 5).
 */
@Injectable()
export class DirectorySync implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('PeerDirectory');
  readonly pool: Pool;
  readonly db: SqlDb;
  private listener: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private reconnecting = false;

  constructor(
    private readonly directory: PeerDirectory,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
  ) {
    this.pool = new Pool({
      connectionString: config.database.url,
      max: 3,
      connectionTimeoutMillis: 5000,
      application_name: 'switchboard-gateway',
    });
    // An idle client dying with the server must not crash the process.
    this.pool.on('error', (err) => this.logger.warn(`database pool: ${err.message}`));
    this.db = sqlFromPool(this.pool);
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.reloadAll();
    } catch (err) {
      // A keyring that cannot open stored secrets is a configuration error: stop now, naming the keys.
      if (err instanceof SecretDecryptError) throw err;
      this.logger.warn(
        `peer directory not loaded yet (${(err as Error).message}); retrying in the background`,
      );
    }
    void this.listen();
    this.timer = setInterval(() => {
      this.reloadAll().catch((err: Error) => this.logger.warn(`periodic reload failed: ${err.message}`));
    }, this.config.peerAuth.directoryRefreshSeconds * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.listener?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  async reloadAll(): Promise<void> {
    this.directory.replaceAll(await loadDirectory(this.db, this.box));
  }

  async reloadPeer(peerId: string): Promise<void> {
    this.directory.replacePeer(peerId, await loadDirectory(this.db, this.box, peerId));
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.database.url, connectionTimeoutMillis: 5000 });
    client.on('error', (err) => {
      this.logger.warn(`LISTEN connection lost: ${err.message}`);
      this.scheduleReconnect(client);
    });
    client.on('end', () => this.scheduleReconnect(client));
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      this.reloadPeer(n.payload).catch((err: Error) =>
        this.logger.warn(`reload of ${n.payload}: ${err.message}`),
      );
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
      // Changes made while we were not listening: one full reload closes the gap.
      await this.reloadAll();
    } catch (err) {
      this.logger.warn(`cannot listen for peer changes: ${(err as Error).message}`);
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: Client): void {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = true;
    if (this.listener === client) this.listener = null;
    client.end().catch(() => undefined);
    setTimeout(() => {
      this.reconnecting = false;
      void this.listen();
    }, 1000).unref();
  }
}

@Injectable()
export class PeerDirectoryProbe implements ReadinessProbe {
  readonly name = 'peer-directory';
  constructor(private readonly directory: PeerDirectory) {}
  async check(): Promise<boolean> {
    return this.directory.ready;
  }
}
