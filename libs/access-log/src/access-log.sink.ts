import type { Pool } from 'pg';
import type { AccessRecord } from './access-record';

/** Where the writer's batches go. The writer owns retries; a sink only writes one batch or throws. */
export interface AccessLogSink {
  write(records: readonly AccessRecord[]): Promise<void>;
  close?(): Promise<void>;
}

export const ACCESS_LOG_SINK = Symbol('ACCESS_LOG_SINK');

/**
 * One multi-row INSERT per batch: a column array per field, expanded by unnest (one round trip, one plan,
 * whatever the batch size). ON CONFLICT DO NOTHING makes re-sending a batch whose commit was not
 * acknowledged (connection lost after COMMIT) harmless: ids are generated once, before the first attempt.
 */
export const INSERT_BATCH_SQL = `
  INSERT INTO access_log (id, direction, peer_id, service, method, started_at, duration_ms, result, http_status,
                          error_code, event_id, client_ip, bytes_in, bytes_out, correlation_id, body_hash, body,
                          claimed_peer_id, operator_id)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::real[],
                       $8::text[], $9::int[], $10::text[], $11::uuid[], $12::inet[], $13::int[], $14::int[],
                       $15::text[], $16::text[], $17::text[], $18::text[], $19::text[])
  ON CONFLICT DO NOTHING`;

/** The 19 column arrays of INSERT_BATCH_SQL, in its order. */
export function batchParams(records: readonly AccessRecord[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 19 }, () => new Array<unknown>(records.length));
  records.forEach((r, i) => {
    cols[0][i] = r.id;
    cols[1][i] = r.direction;
    cols[2][i] = r.peerId;
    cols[3][i] = r.service;
    cols[4][i] = r.method;
    cols[5][i] = r.startedAt.toISOString();
    cols[6][i] = r.durationMs;
    cols[7][i] = r.result;
    cols[8][i] = r.httpStatus;
    cols[9][i] = r.errorCode;
    cols[10][i] = r.eventId;
    cols[11][i] = r.clientIp;
    cols[12][i] = r.bytesIn;
    cols[13][i] = r.bytesOut;
    cols[14][i] = r.correlationId;
    cols[15][i] = r.bodyHash;
    cols[16][i] = r.body;
    cols[17][i] = r.claimedPeerId ?? null;
    cols[18][i] = r.operatorId ?? null;
  });
  return cols;
}

/** SQLSTATE classes that mean "this data", not "the store": 22 data exception, 23 integrity violation. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

export class PgAccessLogSink implements AccessLogSink {
  constructor(private readonly pool: Pool) {}

  async write(records: readonly AccessRecord[]): Promise<void> {
    if (records.length) await this.pool.query(INSERT_BATCH_SQL, batchParams(records));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
