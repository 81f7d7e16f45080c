import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { ContractViolation, NotFoundError } from '@switchboard/contracts';
import { CallEvent, CallLog, normalizePhone, Task } from '@switchboard/crm';
import { DataSource } from 'typeorm';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An ISO 8601 instant: date, time and an explicit offset (a bare date or a local time is no instant). */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;
/** What a cursor carries: started_at in UTC with microseconds (as Postgres stores it) and the row's id. */
const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const CALL_DISPOSITIONS = [
  'answered',
  'missed',
  'busy',
  'failed',
  'no-answer',
  'cancelled',
  'voicemail',
] as const;
export type CallDisposition = (typeof CALL_DISPOSITIONS)[number];
export const CALL_DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

export const DEFAULT_CALL_LIMIT = 50;
export const MAX_CALL_LIMIT = 500;
export const MAX_STATS_SPAN_DAYS = 366;
const DAY_MS = 86_400_000;

/** Query string as the HTTP layer hands it over: a repeated parameter arrives as an array. */
export type RawQuery = Record<string, unknown>;

export interface CallCursor {
  /** started_at, UTC, microsecond precision. */
  startedAt: string;
  id: string;
}

export interface CallListFilter {
  customerPhone?: string;
  contactId?: string;
  leadId?: string;
  managerId?: string;
  direction?: CallDirection;
  disposition?: CallDisposition;
  /** inclusive */
  from?: string;
  /** exclusive */
  to?: string;
  limit: number;
  cursor?: CallCursor;
}

export interface CallStatsRange {
  from: string;
  to: string;
}

export interface CallCounts {
  answered: number;
  missed: number;
  total: number;
  averageWaitSeconds: number | null;
  averageTalkSeconds: number | null;
}
export interface ManagerCallStats extends CallCounts {
  managerId: string;
  managerName: string | null;
  extension: string | null;
}
export interface CallStats {
  from: string;
  to: string;
  managers: ManagerCallStats[];
  unassigned: CallCounts;
}

export interface CallTimelineEntry {
  eventId: string;
  type: string;
  providerCallId: string;
  sequence: number | null;
  occurredAt: Date;
  receivedAt: Date;
  payload: Record<string, unknown>;
}
export type CallDetail = CallLog & { timeline: CallTimelineEntry[]; callbackTask: Task | null };

function violation(field: string, rule: string, message: string): ContractViolation {
  return new ContractViolation([{ field, rule, message }], `Invalid query parameter ${field}.`);
}

/** One string value or undefined; repeated or non-string parameters are refused. */
function single(q: RawQuery, field: string): string | undefined {
  const v = q[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw violation(field, 'single', `${field} must be given once`);
  return v;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Milliseconds since the epoch of an ISO 8601 instant, or null when it is not one (or not a real date). */
export function parseInstant(raw: string): number | null {
  const m = INSTANT.exec(raw);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  if (month < 1 || month > 12) return null;
  if (Number(d) < 1 || Number(d) > daysInMonth(year, month)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) return null;
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) return null;
  const ms = Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? null : ms;
}

function instant(q: RawQuery, field: string): { raw: string; ms: number } | undefined {
  const raw = single(q, field);
  if (raw === undefined) return undefined;
  const ms = parseInstant(raw);
  if (ms === null)
    throw violation(field, 'isIso8601', `${field} must be an ISO 8601 instant, e.g. 2025-01-31T00:00:00Z`);
  return { raw, ms };
}

function uuid(q: RawQuery, field: string): string | undefined {
  const v = single(q, field);
  if (v === undefined) return undefined;
  if (!UUID.test(v)) throw violation(field, 'isUuid', `${field} must be a uuid`);
  return v.toLowerCase();
}

function oneOf<T extends string>(q: RawQuery, field: string, allowed: readonly T[]): T | undefined {
  const v = single(q, field);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw violation(field, 'isIn', `${field} must be one of: ${allowed.join(', ')}`);
  return v as T;
}

export function parseCallLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_CALL_LIMIT;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_CALL_LIMIT)
    throw violation('limit', 'range', `limit must be an integer 1-${MAX_CALL_LIMIT}`);
  return n;
}

export function encodeCursor(c: CallCursor): string {
  return Buffer.from(`${c.startedAt}|${c.id}`, 'utf8').toString('base64url');
}

/** The cursor is opaque to clients; anything that is not one this API issued is a 400. */
export function decodeCursor(raw: string): CallCursor {
  const bad = () => violation('cursor', 'isCursor', 'cursor is not one this API issued');
  if (!BASE64URL.test(raw) || raw.length > 200) throw bad();
  const parts = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  if (parts.length !== 2) throw bad();
  const [startedAt, id] = parts;
  if (!CURSOR_TS.test(startedAt) || parseInstant(startedAt) === null || !UUID.test(id)) throw bad();
  return { startedAt, id: id.toLowerCase() };
}

export function parseCallListQuery(q: RawQuery, defaultRegion: string): CallListFilter {
  const filter: CallListFilter = { limit: parseCallLimit(single(q, 'limit')) };
  const phone = single(q, 'phone');
  if (phone !== undefined) {
    const normalized = normalizePhone(phone, defaultRegion);
    if (!normalized) throw violation('phone', 'isPhone', 'phone is not a phone number');
    filter.customerPhone = normalized;
  }
  filter.contactId = uuid(q, 'contactId');
  filter.leadId = uuid(q, 'leadId');
  filter.managerId = uuid(q, 'managerId');
  filter.direction = oneOf(q, 'direction', CALL_DIRECTIONS);
  filter.disposition = oneOf(q, 'disposition', CALL_DISPOSITIONS);
  const from = instant(q, 'from');
  const to = instant(q, 'to');
  if (from && to && to.ms <= from.ms) throw violation('to', 'range', 'to must be later than from');
  filter.from = from?.raw;
  filter.to = to?.raw;
  const cursor = single(q, 'cursor');
  if (cursor !== undefined) filter.cursor = decodeCursor(cursor);
  return filter;
}

export function parseCallStatsQuery(q: RawQuery): CallStatsRange {
  const from = instant(q, 'from');
  const to = instant(q, 'to');
  const missing = [!from && 'from', !to && 'to'].filter((f): f is string => !!f);
  if (missing.length)
    throw new ContractViolation(
      missing.map((field) => ({ field, rule: 'required', message: `${field} is required` })),
      'from and to are required.',
    );
  if (to!.ms <= from!.ms) throw violation('to', 'range', 'to must be later than from');
  if (to!.ms - from!.ms > MAX_STATS_SPAN_DAYS * DAY_MS)
    throw violation('to', 'range', `the range may span at most ${MAX_STATS_SPAN_DAYS} days`);
  return { from: new Date(from!.ms).toISOString(), to: new Date(to!.ms).toISOString() };
}

interface StatsRow {
  manager_id: string | null;
  manager_name: string | null;
  manager_extension: string | null;
  answered: number;
  missed: number;
  total: number;
  average_wait_seconds: string | null;
  average_talk_seconds: string | null;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));
const counts = (r: StatsRow | undefined): CallCounts => ({
  answered: r?.answered ?? 0,
  missed: r?.missed ?? 0,
  total: r?.total ?? 0,
  averageWaitSeconds: num(r?.average_wait_seconds ?? null),
  averageTalkSeconds: num(r?.average_talk_seconds ?? null),
});

/** Completed calls per manager; the bounds are bound parameters, never spliced into the text. */
const STATS_SQL = `
  SELECT c.manager_id,
         m.name AS manager_name,
         m.extension AS manager_extension,
         count(*) FILTER (WHERE c.disposition = 'answered')::int AS answered,
         count(*) FILTER (WHERE c.disposition = 'missed')::int AS missed,
         count(*)::int AS total,
         round(avg(c.wait_seconds), 1)::text AS average_wait_seconds,
         round(avg(c.talk_seconds) FILTER (WHERE c.disposition = 'answered'), 1)::text AS average_talk_seconds
    FROM call_logs c
    LEFT JOIN managers m ON m.id = c.manager_id
   WHERE c.status = 'completed'
     AND c.started_at >= $1::timestamptz
     AND c.started_at < $2::timestamptz
   GROUP BY c.manager_id, m.name, m.extension
   ORDER BY total DESC, m.name NULLS LAST, c.manager_id`;

/** Call logs for operators: search, one call with its timeline, per-manager statistics. */
@Injectable()
export class CallQueryService {
  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
  ) {}

  async list(q: RawQuery): Promise<{ items: CallLog[]; nextCursor: string | null }> {
    const f = parseCallListQuery(q, this.config.crm.defaultRegion);
    const qb = this.ds
      .getRepository(CallLog)
      .createQueryBuilder('c')
      .addSelect(
        `to_char(c.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
        'cursor_started_at',
      );
    if (f.customerPhone !== undefined)
      qb.andWhere('c.customerPhone = :customerPhone', { customerPhone: f.customerPhone });
    if (f.contactId !== undefined) qb.andWhere('c.contactId = :contactId', { contactId: f.contactId });
    if (f.leadId !== undefined) qb.andWhere('c.leadId = :leadId', { leadId: f.leadId });
    if (f.managerId !== undefined) qb.andWhere('c.managerId = :managerId', { managerId: f.managerId });
    if (f.direction !== undefined) qb.andWhere('c.direction = :direction', { direction: f.direction });
    if (f.disposition !== undefined)
      qb.andWhere('c.disposition = :disposition', { disposition: f.disposition });
    if (f.from !== undefined) qb.andWhere('c.startedAt >= CAST(:from AS timestamptz)', { from: f.from });
    if (f.to !== undefined) qb.andWhere('c.startedAt < CAST(:to AS timestamptz)', { to: f.to });
    if (f.cursor !== undefined)
      qb.andWhere('(c.startedAt, c.id) < (CAST(:cursorStartedAt AS timestamptz), CAST(:cursorId AS uuid))', {
        cursorStartedAt: f.cursor.startedAt,
        cursorId: f.cursor.id,
      });
    const { entities, raw } = await qb
      .orderBy('c.startedAt', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(f.limit + 1)
      .getRawAndEntities<{ cursor_started_at: string }>();
    const items = entities.slice(0, f.limit);
    const nextCursor =
      entities.length > f.limit
        ? encodeCursor({ startedAt: raw[f.limit - 1].cursor_started_at, id: items[f.limit - 1].id })
        : null;
    return { items, nextCursor };
  }

  async get(id: string): Promise<CallDetail> {
    if (!UUID.test(id)) throw new NotFoundError(`No call ${id}.`);
    const call = await this.ds.getRepository(CallLog).findOne({ where: { id } });
    if (!call) throw new NotFoundError(`No call ${id}.`);
    const [events, callbackTask] = await Promise.all([
      this.ds
        .getRepository(CallEvent)
        .createQueryBuilder('e')
        .where('e.callLogId = :id', { id })
        .orderBy('e.occurredAt', 'ASC')
        .addOrderBy('e.sequence', 'ASC', 'NULLS LAST')
        .addOrderBy('e.id', 'ASC')
        .getMany(),
      call.callbackTaskId
        ? this.ds.getRepository(Task).findOne({ where: { id: call.callbackTaskId } })
        : Promise.resolve(null),
    ]);
    const timeline = events.map((e) => ({
      eventId: e.eventId,
      type: e.type,
      providerCallId: e.providerCallId,
      sequence: e.sequence === null ? null : Number(e.sequence),
      occurredAt: e.occurredAt,
      receivedAt: e.receivedAt,
      payload: e.payload,
    }));
    return { ...call, timeline, callbackTask: callbackTask ?? null };
  }

  async stats(q: RawQuery): Promise<CallStats> {
    const { from, to } = parseCallStatsQuery(q);
    const rows: StatsRow[] = await this.ds.query(STATS_SQL, [from, to]);
    const managers = rows
      .filter((r): r is StatsRow & { manager_id: string } => r.manager_id !== null)
      .map((r) => ({
        managerId: r.manager_id,
        managerName: r.manager_name,
        extension: r.manager_extension,
        ...counts(r),
      }));
    return { from, to, managers, unassigned: counts(rows.find((r) => r.manager_id === null)) };
  }
}
