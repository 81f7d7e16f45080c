import { Injectable } from '@nestjs/common';
import { ContractViolation, FieldError } from '@switchboard/contracts';
import { DataSource } from 'typeorm';
import {
  decodeCursor,
  encodeCursor,
  instant,
  limitOf,
  oneOf,
  RawQuery,
  single,
  TimeCursor as CallCursor,
  violation,
} from './query-params';

export const ACCESS_DIRECTIONS = ['inbound', 'outbound'] as const;
export const ACCESS_RESULTS = ['accepted', 'rejected', 'failed'] as const;
export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const DEFAULT_ACCESS_LIMIT = 100;
export const MAX_ACCESS_LIMIT = 1000;
export const DEFAULT_AUDIT_LIMIT = 100;
/** Rows per keyset page of an export: big enough to stream fast, small enough to keep memory flat. */
export const EXPORT_PAGE_ROWS = 2000;
/** A page whose rows carry more than this (full bodies) makes the next pages smaller. */
const EXPORT_PAGE_BYTES = 8 * 1024 * 1024;
const MAX_TEXT = 500;

/**
 * The keys of an exported record, in order: NDJSON keys and CSV header alike. Timestamps are ISO 8601 in UTC
 * with microseconds, as PostgreSQL stores them; `body` only when the record kept one.
 */
export const ACCESS_LOG_FIELDS = [
  'id',
  'direction',
  'peerId',
  'claimedPeerId',
  'service',
  'method',
  'startedAt',
  'durationMs',
  'result',
  'httpStatus',
  'errorCode',
  'eventId',
  'clientIp',
  'bytesIn',
  'bytesOut',
  'correlationId',
  'bodyHash',
  'body',
] as const;
export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];
/** Fields that are numbers (everything else is text). */
export const NUMERIC_FIELDS: ReadonlySet<AccessLogField> = new Set([
  'durationMs',
  'httpStatus',
  'bytesIn',
  'bytesOut',
]);

/** An access record as operators see it (API items, NDJSON lines, CSV rows). */
export interface AccessLogItem {
  id: string;
  direction: (typeof ACCESS_DIRECTIONS)[number];
  /** The authenticated peer; null when the call was not authenticated. */
  peerId: string | null;
  /** Unauthenticated inbound calls: the peer id the request named (anyone can name any peer). */
  claimedPeerId: string | null;
  service: string;
  method: string;
  /** UTC, microseconds: `2026-01-05T10:00:00.123456Z`. */
  startedAt: string;
  durationMs: number;
  result: (typeof ACCESS_RESULTS)[number];
  httpStatus: number | null;
  errorCode: string | null;
  eventId: string | null;
  clientIp: string | null;
  bytesIn: number | null;
  bytesOut: number | null;
  correlationId: string | null;
  bodyHash: string | null;
  body?: string;
}

/** Every filter is an exact match; from inclusive, to exclusive (raw ISO text, so microseconds survive). */
export interface AccessLogFilter {
  /** The authenticated peer. */
  peer?: string;
  /** The peer id an unauthenticated call claimed. */
  claimedPeer?: string;
  service?: string;
  direction?: (typeof ACCESS_DIRECTIONS)[number];
  result?: (typeof ACCESS_RESULTS)[number];
  code?: string;
  from?: string;
  to?: string;
  /** The bounds in ms since the epoch (file names, range checks). */
  fromMs?: number;
  toMs?: number;
}

export interface AccessLogSearch {
  filter: AccessLogFilter;
  limit: number;
  cursor?: CallCursor;
}

export interface AccessLogPage {
  items: AccessLogItem[];
  nextCursor: string | null;
}

export interface AccessLogAuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  rangeFrom: Date | null;
  rangeTo: Date | null;
  rowsDeleted: number | null;
  details: Record<string, unknown>;
}

const FILTER_PARAMS = [
  'peer',
  'claimedPeer',
  'service',
  'direction',
  'result',
  'code',
  'from',
  'to',
] as const;

/**
 * Unknown parameters are refused: a mistyped filter (`peerId=`) on an export or a search would otherwise
 * silently widen it to everything.
 */
function onlyKnown(q: RawQuery, allowed: readonly string[]): void {
  const unknown = Object.keys(q).filter((k) => !allowed.includes(k));
  if (unknown.length)
    throw new ContractViolation(
      unknown.map((field): FieldError => ({
        field,
        rule: 'unknown',
        message: `${field} is not a parameter here; use: ${allowed.join(', ')}`,
      })),
      `Unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}.`,
    );
}

function text(q: RawQuery, field: string): string | undefined {
  const v = single(q, field);
  if (v === undefined) return undefined;
  if (v === '') throw violation(field, 'isNotEmpty', `${field} must not be empty`);
  if (v.length > MAX_TEXT)
    throw violation(field, 'maxLength', `${field} must be at most ${MAX_TEXT} characters`);
  return v;
}

function parseFilter(q: RawQuery): AccessLogFilter {
  const from = instant(q, 'from');
  const to = instant(q, 'to');
  if (from && to && to.ms <= from.ms) throw violation('to', 'range', 'to must be later than from');
  const filter: AccessLogFilter = {
    peer: text(q, 'peer'),
    claimedPeer: text(q, 'claimedPeer'),
    service: text(q, 'service'),
    direction: oneOf(q, 'direction', ACCESS_DIRECTIONS),
    result: oneOf(q, 'result', ACCESS_RESULTS),
    code: text(q, 'code'),
    from: from?.raw,
    to: to?.raw,
    fromMs: from?.ms,
    toMs: to?.ms,
  };
  for (const k of Object.keys(filter) as (keyof AccessLogFilter)[])
    if (filter[k] === undefined) delete filter[k];
  return filter;
}

/** `GET /v1/admin/access-log`: filters, limit 1-1000 (default 100), cursor. */
export function parseAccessLogSearch(q: RawQuery): AccessLogSearch {
  onlyKnown(q, [...FILTER_PARAMS, 'limit', 'cursor']);
  const search: AccessLogSearch = {
    filter: parseFilter(q),
    limit: limitOf(single(q, 'limit'), DEFAULT_ACCESS_LIMIT, MAX_ACCESS_LIMIT),
  };
  const cursor = single(q, 'cursor');
  if (cursor !== undefined) search.cursor = decodeCursor(cursor);
  return search;
}

/** `GET /v1/admin/access-log/export`: filters and format (ndjson by default). */
export function parseAccessLogExport(q: RawQuery): { filter: AccessLogFilter; format: ExportFormat } {
  onlyKnown(q, [...FILTER_PARAMS, 'format']);
  const filter = parseFilter(q);
  return { filter, format: oneOf(q, 'format', EXPORT_FORMATS) ?? 'ndjson' };
}

/**
 * `DELETE /v1/admin/access-log`: from and to, both required. Millisecond precision at most: the range goes
 * on as Dates, and a bound silently rounded would delete rows the operator did not name.
 */
export function parseAccessLogRange(q: RawQuery): { from: Date; to: Date } {
  onlyKnown(q, ['from', 'to']);
  const from = instant(q, 'from');
  const to = instant(q, 'to');
  const missing = [!from && 'from', !to && 'to'].filter((f): f is string => !!f);
  if (missing.length)
    throw new ContractViolation(
      missing.map((field) => ({ field, rule: 'required', message: `${field} is required` })),
      'from and to are required.',
    );
  for (const [field, v] of [
    ['from', from!],
    ['to', to!],
  ] as const)
    if (/\.\d{4,}/.test(v.raw))
      throw violation(field, 'precision', `${field} may carry at most milliseconds`);
  if (to!.ms <= from!.ms) throw violation('to', 'range', 'to must be later than from');
  return { from: new Date(from!.ms), to: new Date(to!.ms) };
}

export function parseAuditLimit(q: RawQuery): number {
  onlyKnown(q, ['limit']);
  return limitOf(single(q, 'limit'), DEFAULT_AUDIT_LIMIT, MAX_ACCESS_LIMIT);
}

/**
 * WHERE clause with bound parameters ($1…). The cursor adds `started_at <= ts` besides the row comparison:
 * PostgreSQL prunes partitions on the former, while the row comparison is the exact keyset condition.
 */
export function accessLogWhere(
  f: AccessLogFilter,
  cursor?: CallCursor,
): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const conds: string[] = [];
  const p = (v: unknown, cast = '') => {
    params.push(v);
    return `$${params.length}${cast}`;
  };
  if (f.peer !== undefined) conds.push(`peer_id = ${p(f.peer)}`);
  if (f.claimedPeer !== undefined) conds.push(`claimed_peer_id = ${p(f.claimedPeer)}`);
  if (f.service !== undefined) conds.push(`service = ${p(f.service)}`);
  if (f.direction !== undefined) conds.push(`direction = ${p(f.direction)}`);
  if (f.result !== undefined) conds.push(`result = ${p(f.result)}`);
  if (f.code !== undefined) conds.push(`error_code = ${p(f.code)}`);
  if (f.from !== undefined) conds.push(`started_at >= ${p(f.from, '::timestamptz')}`);
  if (f.to !== undefined) conds.push(`started_at < ${p(f.to, '::timestamptz')}`);
  if (cursor) {
    const ts = p(cursor.startedAt, '::timestamptz');
    conds.push(`started_at <= ${ts}`, `(started_at, id) < (${ts}, ${p(cursor.id, '::uuid')})`);
  }
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

/**
 * Newest first on the (…, started_at DESC, id DESC) indexes: per partition an index scan in that order,
 * merged (Merge Append) and cut at LIMIT, so a first page reads about `limit` index entries.
 */
export function accessLogPageSql(f: AccessLogFilter, limit: number, cursor?: CallCursor) {
  const { where, params } = accessLogWhere(f, cursor);
  params.push(limit);
  const sql = `
    SELECT id, direction, peer_id, claimed_peer_id, service, method,
           to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at_us,
           duration_ms, result, http_status, error_code, event_id, client_ip, bytes_in, bytes_out,
           correlation_id, body_hash, body
      FROM access_log
      ${where}
     ORDER BY access_log.started_at DESC, access_log.id DESC
     LIMIT $${params.length}`;
  return { sql, params };
}

interface AccessLogRow {
  id: string;
  direction: AccessLogItem['direction'];
  peer_id: string | null;
  claimed_peer_id: string | null;
  service: string;
  method: string;
  /** started_at as text, UTC with microseconds; never named started_at, which ORDER BY would then sort. */
  started_at_us: string;
  duration_ms: number;
  result: AccessLogItem['result'];
  http_status: number | null;
  error_code: string | null;
  event_id: string | null;
  client_ip: string | null;
  bytes_in: number | null;
  bytes_out: number | null;
  correlation_id: string | null;
  body_hash: string | null;
  body: string | null;
}

export function toItem(r: AccessLogRow): AccessLogItem {
  const item: AccessLogItem = {
    id: r.id,
    direction: r.direction,
    peerId: r.peer_id,
    claimedPeerId: r.claimed_peer_id,
    service: r.service,
    method: r.method,
    startedAt: r.started_at_us,
    durationMs: Number(r.duration_ms),
    result: r.result,
    httpStatus: r.http_status,
    errorCode: r.error_code,
    eventId: r.event_id,
    clientIp: r.client_ip,
    bytesIn: r.bytes_in,
    bytesOut: r.bytes_out,
    correlationId: r.correlation_id,
    bodyHash: r.body_hash,
  };
  if (r.body !== null) item.body = r.body;
  return item;
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  range_from: Date | null;
  range_to: Date | null;
  rows_deleted: string | null;
  details: Record<string, unknown>;
}

/**
 * The access log for operators: search (keyset pages), the pages an export streams, counts, the audit trail.
 * Shared by the console API and the CLI, so both answer the same query the same way.
 */
@Injectable()
export class AccessLogQueryService {
  constructor(private readonly ds: DataSource) {}

  async search(q: RawQuery): Promise<AccessLogPage> {
    const { filter, limit, cursor } = parseAccessLogSearch(q);
    return this.page(filter, limit, cursor);
  }

  async page(filter: AccessLogFilter, limit: number, cursor?: CallCursor): Promise<AccessLogPage> {
    const items = await this.rows(filter, limit + 1, cursor);
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page,
      nextCursor: items.length > limit ? encodeCursor({ startedAt: last.startedAt, id: last.id }) : null,
    };
  }

  /** Every matching record, newest first, one keyset page at a time (nothing else is held in memory). */
  async *pages(filter: AccessLogFilter, pageRows = EXPORT_PAGE_ROWS): AsyncGenerator<AccessLogItem[]> {
    let cursor: CallCursor | undefined;
    let size = pageRows;
    for (;;) {
      const items = await this.rows(filter, size, cursor);
      if (items.length === 0) return;
      yield items;
      if (items.length < size) return;
      const last = items[items.length - 1];
      cursor = { startedAt: last.startedAt, id: last.id };
      // Full bodies (accessLog.bodies = full) make rows big: keep a page near EXPORT_PAGE_BYTES.
      const bytes = items.reduce((n, i) => n + 300 + (i.body?.length ?? 0), 0);
      size =
        bytes > EXPORT_PAGE_BYTES
          ? Math.max(10, Math.floor((size * EXPORT_PAGE_BYTES) / bytes))
          : Math.min(pageRows, size * 2);
    }
  }

  async count(filter: AccessLogFilter): Promise<number> {
    const { where, params } = accessLogWhere(filter);
    const [row] = await this.ds.query<{ n: string }[]>(
      `SELECT count(*)::bigint AS n FROM access_log ${where}`,
      params,
    );
    return Number(row.n);
  }

  async audit(limit: number): Promise<AccessLogAuditEntry[]> {
    const rows: AuditRow[] = await this.ds.query(
      `SELECT id, at, actor, action, range_from, range_to, rows_deleted, details
         FROM access_log_audit ORDER BY at DESC, id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      actor: r.actor,
      action: r.action,
      rangeFrom: r.range_from,
      rangeTo: r.range_to,
      rowsDeleted: r.rows_deleted === null ? null : Number(r.rows_deleted),
      details: r.details,
    }));
  }

  private async rows(filter: AccessLogFilter, limit: number, cursor?: CallCursor): Promise<AccessLogItem[]> {
    const { sql, params } = accessLogPageSql(filter, limit, cursor);
    const rows: AccessLogRow[] = await this.ds.query(sql, params);
    return rows.map(toItem);
  }
}
