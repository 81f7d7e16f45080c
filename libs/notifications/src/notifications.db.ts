import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { DomainError, ErrorCode } from '@switchboard/contracts';
import { isDatabaseUnavailable } from '@switchboard/database';
import { Pool, type PoolClient } from 'pg';

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

class DatabaseUnavailable extends DomainError {
  constructor() {
    super(ErrorCode.DATABASE_UNAVAILABLE, 'The database is unavailable; try again shortly.');
  }
}

/**
 * A small pg pool of its own: the gateway takes codes and provider webhooks without the ORM (as its 1C exchange
 * does), and the sender shares the same SQL. An unreachable database becomes DATABASE_UNAVAILABLE (503).
 */
@Injectable()
export class NotificationsDb implements Sql, OnApplicationShutdown {
  private readonly pool: Pool;

  constructor(config: AppConfig) {
    this.pool = new Pool({
      connectionString: config.database.url,
      max: 4,
      application_name: `${process.title}-notifications`,
      connectionTimeoutMillis: 5000,
    });
    this.pool.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  async query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(text, params)).rows as T[];
    } catch (err) {
      throw isDatabaseUnavailable(err) ? new DatabaseUnavailable() : err;
    }
  }

  /** Runs fn in one transaction on one connection; rolls back when it throws. */
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw isDatabaseUnavailable(err) ? new DatabaseUnavailable() : err;
    }
    const sql: Sql = {
      query: async <R>(text: string, params: unknown[] = []) =>
        (await client.query(text, params)).rows as R[],
    };
    try {
      await client.query('BEGIN');
      const result = await fn(sql);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw isDatabaseUnavailable(err) ? new DatabaseUnavailable() : err;
    } finally {
      client.release();
    }
  }
}
