import { createHash, randomBytes } from 'node:crypto';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { Pool } from 'pg';

export const hashOf = (value: string) => createHash('sha256').update(value).digest('hex');

export interface ImportRow {
  id: string;
  filename: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  version: number;
  processed: number;
  events: number;
  failure: string | null;
}

export interface SaleOrderRow {
  id: string;
  external_id: string;
  status: string;
  amount: string;
  currency: string;
  delivery_address: string | null;
  source_created_at: Date;
  paid_at: Date | null;
  contact_id: string;
  contact_name: string | null;
  phones: string[];
  emails: string[];
  items: Array<{ sku: string; name: string; quantity: number; price: number; product_id: string | null }>;
}

const IMPORT_COLUMNS = `id::text, filename, state, version::float8 AS version, processed, events, failure`;

/**
 * The 1C exchange's state in PostgreSQL: sessions (cookie hashes), uploaded chunks, imports with a lease (which
 * gateway replica parses), order exports. In the database rather than on a disk so that any replica behind a
 * balancer can take the next call of a session, and an upload survives a restart.
 */
@Injectable()
export class ExchangeStore implements OnApplicationShutdown {
  private readonly pool: Pool;

  constructor(config: AppConfig) {
    this.pool = new Pool({
      connectionString: config.database.url,
      max: 4,
      application_name: 'switchboard-gateway-1c',
      connectionTimeoutMillis: 5000,
    });
    this.pool.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  /** A new session: returns the cookie value (only its hash is stored). Expired sessions go (with uploads). */
  async createSession(peerId: string, ttlMinutes: number): Promise<string> {
    const value = randomBytes(24).toString('base64url');
    await this.pool.query(`DELETE FROM erp_exchange_sessions WHERE expires_at < now()`);
    await this.pool.query(
      `INSERT INTO erp_exchange_sessions (id_hash, peer_id, expires_at)
       VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [hashOf(value), peerId, ttlMinutes * 60],
    );
    return value;
  }

  /** The session's peer if the cookie is live; each use extends it. */
  async touchSession(cookie: string, ttlMinutes: number): Promise<{ hash: string; peerId: string } | null> {
    const { rows } = await this.pool.query<{ peer_id: string }>(
      `UPDATE erp_exchange_sessions SET expires_at = now() + make_interval(secs => $2)
        WHERE id_hash = $1 AND expires_at > now() RETURNING peer_id`,
      [hashOf(cookie), ttlMinutes * 60],
    );
    return rows[0] ? { hash: hashOf(cookie), peerId: rows[0].peer_id } : null;
  }

  /** The peer's most recently created live session (for calls with HTTP Basic but no cookie), extended. */
  async latestSession(peerId: string, ttlMinutes: number): Promise<string | null> {
    const { rows } = await this.pool.query<{ id_hash: string }>(
      `UPDATE erp_exchange_sessions SET expires_at = now() + make_interval(secs => $2)
        WHERE id_hash = (SELECT id_hash FROM erp_exchange_sessions WHERE peer_id = $1 AND expires_at > now()
                          ORDER BY created_at DESC LIMIT 1)
        RETURNING id_hash`,
      [peerId, ttlMinutes * 60],
    );
    return rows[0]?.id_hash ?? null;
  }

  /**
   * Appends one chunk to the session's upload of `filename`; false (and the upload removed) when the file
   * would exceed maxBytes. A `file` call after the file was imported starts it afresh (1C re-sends).
   */
  async appendChunk(
    session: string,
    peerId: string,
    filename: string,
    data: Buffer,
    maxBytes: number,
  ): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `DELETE FROM erp_imports WHERE session_hash = $1 AND filename = $2 AND state IN ('done', 'failed')`,
        [session, filename],
      );
      const { rows } = await client.query<{ id: string; bytes: string; chunks: number }>(
        `INSERT INTO erp_uploads (session_hash, peer_id, filename) VALUES ($1, $2, $3)
         ON CONFLICT (session_hash, filename) DO UPDATE SET bytes = erp_uploads.bytes
         RETURNING id, bytes, chunks`,
        [session, peerId, filename],
      );
      const up = rows[0];
      if (Number(up.bytes) + data.length > maxBytes) {
        await client.query(`DELETE FROM erp_uploads WHERE id = $1`, [up.id]);
        await client.query('COMMIT');
        return false;
      }
      await client.query(`INSERT INTO erp_upload_chunks (upload_id, seq, data) VALUES ($1, $2, $3)`, [
        up.id,
        up.chunks,
        data,
      ]);
      await client.query(`UPDATE erp_uploads SET bytes = bytes + $2, chunks = chunks + 1 WHERE id = $1`, [
        up.id,
        data.length,
      ]);
      await client.query('COMMIT');
      return true;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async uploads(session: string): Promise<Array<{ id: string; filename: string; bytes: number }>> {
    const { rows } = await this.pool.query<{ id: string; filename: string; bytes: string }>(
      `SELECT id::text, filename, bytes FROM erp_uploads WHERE session_hash = $1 ORDER BY id`,
      [session],
    );
    return rows.map((r) => ({ id: r.id, filename: r.filename, bytes: Number(r.bytes) }));
  }

  /** The first bytes of an upload (zip or XML?). */
  async head(uploadId: string): Promise<Buffer> {
    const { rows } = await this.pool.query<{ h: Buffer | null }>(
      `SELECT substring(data FROM 1 FOR 4) AS h FROM erp_upload_chunks WHERE upload_id = $1 AND seq = 0`,
      [uploadId],
    );
    return rows[0]?.h ?? Buffer.alloc(0);
  }

  /** The upload's bytes, chunk by chunk: never the whole file in memory. */
  async *chunks(uploadId: string): AsyncGenerator<Buffer> {
    for (let seq = 0; ; seq++) {
      const { rows } = await this.pool.query<{ data: Buffer }>(
        `SELECT data FROM erp_upload_chunks WHERE upload_id = $1 AND seq = $2`,
        [uploadId, seq],
      );
      if (!rows[0]) return;
      yield rows[0].data;
    }
  }

  /** The import of `filename` in this session, created (with its version) on first ask. */
  async importOf(session: string, peerId: string, filename: string): Promise<ImportRow> {
    const { rows } = await this.pool.query<ImportRow>(
      `WITH ins AS (
         INSERT INTO erp_imports (session_hash, peer_id, filename, state, version)
         VALUES ($1, $2, $3, 'pending', (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
         ON CONFLICT (session_hash, filename) DO NOTHING RETURNING ${IMPORT_COLUMNS})
       SELECT * FROM ins UNION ALL
       SELECT ${IMPORT_COLUMNS} FROM erp_imports WHERE session_hash = $1 AND filename = $3`,
      [session, peerId, filename],
    );
    return rows[0];
  }

  async readImport(id: string): Promise<ImportRow | null> {
    const { rows } = await this.pool.query<ImportRow>(
      `SELECT ${IMPORT_COLUMNS} FROM erp_imports WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Takes the import for this process if nobody holds a live lease on it. */
  async claim(id: string, leaseSeconds: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE erp_imports SET state = 'running', lease_until = now() + make_interval(secs => $2), processed = 0,
              updated_at = now()
        WHERE id = $1 AND (state = 'pending' OR (state = 'running' AND lease_until < now()))`,
      [id, leaseSeconds],
    );
    return rowCount === 1;
  }

  /** Gives a claimed import back (pending, no lease): the next `import` call for it starts over. */
  async release(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE erp_imports SET state = 'pending', lease_until = NULL, processed = 0, updated_at = now()
        WHERE id = $1 AND state = 'running'`,
      [id],
    );
  }

  async heartbeat(id: string, leaseSeconds: number, processed: number): Promise<void> {
    await this.pool.query(
      `UPDATE erp_imports SET lease_until = now() + make_interval(secs => $2), processed = $3, updated_at = now()
        WHERE id = $1 AND state = 'running'`,
      [id, leaseSeconds, processed],
    );
  }

  async finish(id: string, state: 'done' | 'failed', events: number, failure: string | null): Promise<void> {
    await this.pool.query(
      `UPDATE erp_imports SET state = $2, events = $3, failure = $4, lease_until = NULL, updated_at = now()
        WHERE id = $1`,
      [id, state, events, failure],
    );
  }

  /** Site orders not yet confirmed by this 1C peer, oldest first; marked as sent. */
  async unconfirmedOrders(peerId: string, limit: number): Promise<SaleOrderRow[]> {
    const { rows } = await this.pool.query<SaleOrderRow>(
      `SELECT d.id, d.external_id, d.status, d.amount, d.currency, d.delivery_address, d.source_created_at, d.paid_at,
              c.id AS contact_id, c.name AS contact_name, c.phones, c.emails,
              COALESCE((SELECT json_agg(json_build_object('sku', i.sku, 'name', i.name, 'quantity', i.quantity,
                                 'price', i.price,
                                 'product_id', (SELECT p.external_id FROM products p
                                                 WHERE p.peer_id = $1 AND (p.sku = i.sku OR p.external_id = i.sku)
                                                 ORDER BY (p.external_id = i.sku) DESC LIMIT 1))
                                 ORDER BY i.position)
                          FROM deal_items i WHERE i.deal_id = d.id), '[]') AS items
         FROM deals d JOIN contacts c ON c.id = d.contact_id
        WHERE NOT EXISTS (SELECT 1 FROM erp_order_exports x
                           WHERE x.peer_id = $1 AND x.deal_id = d.id AND x.confirmed_at IS NOT NULL)
        ORDER BY d.created_at, d.id LIMIT $2`,
      [peerId, limit],
    );
    if (rows.length > 0) {
      await this.pool.query(
        `INSERT INTO erp_order_exports (peer_id, deal_id, sent_at) SELECT $1, unnest($2::uuid[]), now()
         ON CONFLICT (peer_id, deal_id) DO UPDATE SET sent_at = now()`,
        [peerId, rows.map((r) => r.id)],
      );
    }
    return rows;
  }

  /** `sale&mode=success`: every order sent to this peer so far is in 1C now. */
  async confirmOrders(peerId: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE erp_order_exports SET confirmed_at = now() WHERE peer_id = $1 AND confirmed_at IS NULL`,
      [peerId],
    );
    return rowCount ?? 0;
  }
}
