import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  CALL_DIRECTIONS,
  CALL_DISPOSITIONS,
  ContractViolation,
  NotFoundError,
  type CallDirection,
  type CallDisposition,
} from '@switchboard/contracts';
import { CallEvent, CallLog, normalizePhone, Task } from '@switchboard/crm';
import { DataSource } from 'typeorm';
import {
  decodeCursor,
  encodeCursor,
  instant,
  limitOf,
  oneOf,
  single,
  UUID,
  uuid,
  violation,
  type RawQuery,
  type TimeCursor as CallCursor,
} from './query-params';

export { CALL_DIRECTIONS, CALL_DISPOSITIONS };
export type { CallDirection, CallDisposition };
export { decodeCursor, encodeCursor, parseInstant } from './query-params';
export type { RawQuery, TimeCursor as CallCursor } from './query-params';

export const DEFAULT_CALL_LIMIT = 50;
export const MAX_CALL_LIMIT = 500;
export const MAX_STATS_SPAN_DAYS = 366;
const DAY_MS = 86_400_000;

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
  /** Averages over the calls whose value is known: an unknown wait or talk time is skipped, not zero. */
  averageWaitSeconds: number | null;
  averageTalkSeconds: number | null;
  /** Calls whose wait (or, answered, talk) time is unknown: left out of the averages above. */
  withoutTiming: number;
  /** Calls whose times were derived from the provider's final message (`timesEstimated`), in the averages. */
  timesEstimated: number;
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

export function parseCallLimit(raw: string | undefined): number {
  return limitOf(raw, DEFAULT_CALL_LIMIT, MAX_CALL_LIMIT);
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
  without_timing: number;
  times_estimated: number;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));
const counts = (r: StatsRow | undefined): CallCounts => ({
  answered: r?.answered ?? 0,
  missed: r?.missed ?? 0,
  total: r?.total ?? 0,
  averageWaitSeconds: num(r?.average_wait_seconds ?? null),
  averageTalkSeconds: num(r?.average_talk_seconds ?? null),
  withoutTiming: r?.without_timing ?? 0,
  timesEstimated: r?.times_estimated ?? 0,
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
         round(avg(c.talk_seconds) FILTER (WHERE c.disposition = 'answered'), 1)::text AS average_talk_seconds,
         count(*) FILTER (WHERE c.wait_seconds IS NULL
                             OR (c.disposition = 'answered' AND c.talk_seconds IS NULL))::int AS without_timing,
         count(*) FILTER (WHERE c.times_estimated)::int AS times_estimated
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

  /** `scope`: a manager operator's managers row (rowScope); only its own calls. */
  async list(q: RawQuery, scope?: string): Promise<{ items: CallLog[]; nextCursor: string | null }> {
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
    if (scope !== undefined) qb.andWhere('c.managerId = :scope', { scope });
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

  async get(id: string, scope?: string): Promise<CallDetail> {
    if (!UUID.test(id)) throw new NotFoundError(`No call ${id}.`);
    const call = await this.ds.getRepository(CallLog).findOne({ where: { id } });
    if (!call || (scope !== undefined && call.managerId !== scope)) throw new NotFoundError(`No call ${id}.`);
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

  /** With `scope` (a manager operator) only its own line, and no unassigned calls. */
  async stats(q: RawQuery, scope?: string): Promise<CallStats> {
    const { from, to } = parseCallStatsQuery(q);
    const rows: StatsRow[] = await this.ds.query(STATS_SQL, [from, to]);
    const managers = rows
      .filter((r): r is StatsRow & { manager_id: string } => r.manager_id !== null)
      .filter((r) => scope === undefined || r.manager_id === scope)
      .map((r) => ({
        managerId: r.manager_id,
        managerName: r.manager_name,
        extension: r.manager_extension,
        ...counts(r),
      }));
    const unassigned = scope === undefined ? rows.find((r) => r.manager_id === null) : undefined;
    return { from, to, managers, unassigned: counts(unassigned) };
  }
}
