import { ContractViolation, type FieldError } from '@switchboard/contracts';
import { sendProblem, toProblem } from '@switchboard/http';
import type { FastifyInstance } from 'fastify';

/** Parsing and validation of console query strings, shared by the calls and access-log read APIs. */

/** Query string as the HTTP layer hands it over: a repeated parameter arrives as an array. */
export type RawQuery = Record<string, unknown>;

/** A keyset position: started_at in UTC with microseconds (as Postgres stores it) and the row's id. */
export interface TimeCursor {
  startedAt: string;
  id: string;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An ISO 8601 instant: date, time and an explicit offset (a bare date or a local time is no instant). */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;
const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function violation(field: string, rule: string, message: string): ContractViolation {
  return new ContractViolation([{ field, rule, message }], `Invalid query parameter ${field}.`);
}

/** One string value or undefined; repeated or non-string parameters are refused. */
export function single(q: RawQuery, field: string): string | undefined {
  const v = q[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw violation(field, 'single', `${field} must be given once`);
  return v;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * The instants a filter may name: years 0001-9999 in UTC. PostgreSQL has no year 0000 (1 BC is "0001 BC") and
 * refuses it as input, so without this bound `from=0000-01-01T00:00:00Z` was a database error, a 500.
 */
const MIN_INSTANT_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Milliseconds since the epoch of an ISO 8601 instant, or null when it is not one (or not a real date, or
 * outside years 0001-9999 as written and in UTC).
 */
export function parseInstant(raw: string): number | null {
  const m = INSTANT.exec(raw);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, oh, om] = m;
  const year = Number(y);
  if (year < 1) return null;
  const month = Number(mo);
  if (month < 1 || month > 12) return null;
  if (Number(d) < 1 || Number(d) > daysInMonth(year, month)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) return null;
  if (oh !== undefined && (Number(oh) > 23 || Number(om) > 59)) return null;
  const ms = Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) || ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS ? null : ms;
}

export function instant(q: RawQuery, field: string): { raw: string; ms: number } | undefined {
  const raw = single(q, field);
  if (raw === undefined) return undefined;
  const ms = parseInstant(raw);
  if (ms === null)
    throw violation(
      field,
      'isIso8601',
      `${field} must be an ISO 8601 instant in years 0001-9999, e.g. 2026-01-31T00:00:00Z`,
    );
  return { raw, ms };
}

export function oneOf<T extends string>(q: RawQuery, field: string, allowed: readonly T[]): T | undefined {
  const v = single(q, field);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw violation(field, 'isIn', `${field} must be one of: ${allowed.join(', ')}`);
  return v as T;
}

export function uuid(q: RawQuery, field: string): string | undefined {
  const v = single(q, field);
  if (v === undefined) return undefined;
  if (!UUID.test(v)) throw violation(field, 'isUuid', `${field} must be a uuid`);
  return v.toLowerCase();
}

export function limitOf(raw: string | undefined, dflt: number, max: number): number {
  if (raw === undefined) return dflt;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw violation('limit', 'range', `limit must be an integer 1-${max}`);
  return n;
}

export function encodeCursor(c: TimeCursor): string {
  return Buffer.from(`${c.startedAt}|${c.id}`, 'utf8').toString('base64url');
}

/** The cursor is opaque to clients; anything that is not one this API issued is a 400. */
export function decodeCursor(raw: string): TimeCursor {
  const bad = () => violation('cursor', 'isCursor', 'cursor is not one this API issued');
  if (!BASE64URL.test(raw) || raw.length > 200) throw bad();
  const parts = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  if (parts.length !== 2) throw bad();
  const [startedAt, id] = parts;
  if (!CURSOR_TS.test(startedAt) || parseInstant(startedAt) === null || !UUID.test(id)) throw bad();
  return { startedAt, id: id.toLowerCase() };
}

/**
 * Rules for every console route, checked once before any handler (`preValidation`, so the route's params are
 * known): a query parameter is given at most once, and no query value or path parameter holds U+0000, which
 * no text column can store (PostgreSQL refused it: a 500, or an export cut after its first byte). Both are
 * 400 VALIDATION_FAILED with the offending field.
 */
export function refuseUnusableParams(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (req, reply, done) => {
    const errors: FieldError[] = [];
    for (const [field, v] of Object.entries((req.query ?? {}) as RawQuery)) {
      if (Array.isArray(v)) errors.push({ field, rule: 'single', message: `${field} must be given once` });
      else if (typeof v === 'string' && v.includes('\u0000'))
        errors.push({ field, rule: 'noNulCharacter', message: `${field} must not contain U+0000` });
    }
    for (const [field, v] of Object.entries((req.params ?? {}) as Record<string, unknown>)) {
      if (typeof v === 'string' && v.includes('\u0000'))
        errors.push({ field, rule: 'noNulCharacter', message: `${field} must not contain U+0000` });
    }
    if (!errors.length) return done();
    const path = req.url.split('?')[0];
    sendProblem(
      reply,
      toProblem(new ContractViolation(errors, 'Invalid query or path parameter.'), path, String(req.id)),
    );
  });
}
