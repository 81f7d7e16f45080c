import {
  CallEventV1,
  CallRecordingV1,
  CallRecordV1,
  ContractViolation,
  TELEPHONY_EVENT_TYPES,
  validateContract,
  type CallDirection,
  type CallDisposition,
  type CallEventType,
} from '@switchboard/contracts';
import { createHash } from 'node:crypto';
import type { AdaptedEvent, ProviderRequest } from '../provider-adapter';
import { parseExactJson } from '../lossless-json';

export const violation = (field: string, rule: string, message: string): ContractViolation =>
  new ContractViolation([{ field, rule, message }]);

export function headerOf(req: Pick<ProviderRequest, 'headers'>, name: string): string | undefined {
  const key = Object.keys(req.headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : req.headers[key];
  return Array.isArray(value) ? value.join(', ') : value;
}

export const mediaType = (req: Pick<ProviderRequest, 'headers'>): string =>
  (headerOf(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();

/** Path of the request URL without query, for adapters whose event name is the path (Mango). */
export function urlPath(url: string): string {
  const noQuery = url.split(/[?#]/)[0];
  return noQuery.replace(/^[a-z]+:\/\/[^/]*/i, '');
}

/**
 * Typed reads from a provider's flat field map (form fields or a JSON object). Adapters read the raw bytes
 * the signature covered, not a body parsed elsewhere, and a repeated form field is an error rather than
 * "first copy wins".
 */
export class Fields {
  constructor(
    private readonly values: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  static fromForm(rawBody: Buffer): Fields {
    const out = Object.create(null) as Record<string, string | string[]>; // `__proto__` is plain data
    for (const [k, v] of new URLSearchParams(rawBody.toString('utf8'))) {
      const prev = out[k];
      out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    return new Fields(out);
  }

  /** A JSON object body; anything else is a contract violation. */
  static fromJson(text: string, field = ''): Fields {
    let parsed: unknown;
    try {
      parsed = parseExactJson(text);
    } catch {
      throw violation(field, 'isJson', `${field || 'the body'} must be JSON`);
    }
    return Fields.of(parsed, field);
  }

  static of(value: unknown, field = ''): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw violation(field, 'isObject', `${field || 'the body'} must be an object`);
    }
    return new Fields(value as Record<string, unknown>, field);
  }

  private path(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  raw(name: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.values, name) ? this.values[name] : undefined;
  }

  /** A nested object (JSON `from`, PHP-form `data[...]`); absent -> empty. */
  obj(name: string): Fields {
    const v = this.raw(name);
    return v === undefined || v === null ? new Fields({}, this.path(name)) : Fields.of(v, this.path(name));
  }

  /** A string (numbers are accepted as text: providers send ids as either). Absent or null -> undefined. */
  optStr(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    const rule = Array.isArray(v) ? 'notRepeated' : 'isString';
    throw violation(this.path(name), rule, `${this.path(name)} must be a single string`);
  }

  /** Required and non-empty. */
  str(name: string): string {
    const v = this.optStr(name);
    if (v === undefined || v === '') {
      throw violation(this.path(name), 'isNotEmpty', `${this.path(name)} is required`);
    }
    return v;
  }

  /** Empty text counts as absent: providers send `""` for "not applicable". */
  optText(name: string): string | undefined {
    const v = this.optStr(name);
    return v === '' ? undefined : v;
  }

  /** A non-negative integer given as a number or as digits ("17"); '' -> undefined. */
  optInt(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return undefined;
    return toInt(v, this.path(name));
  }

  int(name: string): number {
    const v = this.optInt(name);
    if (v === undefined) throw violation(this.path(name), 'isNotEmpty', `${this.path(name)} is required`);
    return v;
  }
}

export function toInt(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\s*\d{1,15}\s*$/.test(value)) return Number(value);
  throw violation(field, 'isInt', `${field} must be a non-negative integer`);
}

/** Unix seconds (number or digits, fractions allowed: Asterisk `${CDR(start,u)}`) -> ISO UTC. */
export function unixToIso(value: unknown, field: string): string {
  const n = typeof value === 'string' && /^\s*\d{1,12}(\.\d{1,9})?\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 7_258_118_400) {
    throw violation(field, 'isUnixTime', `${field} must be unix seconds`);
  }
  return new Date(Math.round(n * 1000)).toISOString();
}

/** `"Иван" <+79123456789>`, `Ivan <101>`, `<101>` or a bare number -> name and number. */
export function parseCallerId(raw: string): { name?: string; number: string } {
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^<>]*)>\s*$/.exec(raw);
  if (!m) return { number: raw.trim() };
  const name = (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]).trim();
  return name ? { name, number: m[3].trim() } : { number: m[3].trim() };
}

// ---- time zones -------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    // Throws RangeError for an unknown zone: a peer misconfiguration, not a bad request.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Offset of `zone` at instant `utcMs`, in ms (local wall clock minus UTC). */
function offsetAt(zone: string, utcMs: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(utcMs / 1000) * 1000;
}

const DAY = 86_400_000;

/**
 * Every UTC instant that shows wall clock `localMs` (wall time written as if it were UTC) in `zone`:
 * one normally, two in the repeated hour of a DST fall-back, none in the skipped hour of a spring-forward.
 * Zones do not change offset twice within a day, so the offsets a day before and after are the candidates.
 */
function instantsOf(localMs: number, zone: string): number[] {
  const offsets = new Set([offsetAt(zone, localMs - DAY), offsetAt(zone, localMs + DAY)]);
  return [...offsets]
    .map((o) => localMs - o)
    .filter((u) => offsetAt(zone, u) === localMs - u)
    .sort((a, b) => a - b);
}

const LOCAL = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d{1,6})?$/;
const ZONED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)$/;

/**
 * A provider time as ISO UTC. Text with its own offset (`Z`, `+03:00`) is absolute; a bare
 * `YYYY-MM-DD HH:MM:SS` is wall-clock time in `zone` (null = UTC). In the repeated hour of a DST change the
 * first instant not before `notBefore` wins (a call's end follows its start); in the skipped hour the
 * pre-change offset is used, which moves the time forward like a clock would.
 */
export function localToUtc(text: string, zone: string | null, field: string, notBefore?: string): string {
  const value = text.trim();
  if (ZONED.test(value)) {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw violation(field, 'isDate', `${field} is not a valid date`);
    return new Date(ms).toISOString();
  }
  const m = LOCAL.exec(value);
  if (!m) throw violation(field, 'isDate', `${field} must be "YYYY-MM-DD HH:MM:SS"`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
  const localMs = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(localMs);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw violation(field, 'isDate', `${field} is not a valid date`);
  }
  if (!zone || zone === 'UTC' || zone === 'Etc/UTC') return check.toISOString();
  const candidates = instantsOf(localMs, zone);
  if (!candidates.length) return new Date(localMs - offsetAt(zone, localMs - DAY)).toISOString();
  const floor = notBefore === undefined ? -Infinity : Date.parse(notBefore);
  return new Date(candidates.find((u) => u >= floor) ?? candidates[0]).toISOString();
}

// ---- CSV --------------------------------------------------------------------------------------------

/**
 * RFC 4180 rows: quoted fields may hold commas, doubled quotes and line breaks; unquoted fields are taken
 * as is (cdr_csv writes numbers unquoted). Blank lines are skipped.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  const endField = () => {
    row.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRow = () => {
    const blank = row.length === 0 && field === '' && !wasQuoted;
    endField();
    if (!blank) rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"' && field === '' && !wasQuoted) {
      quoted = wasQuoted = true;
    } else if (c === ',') endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
    } else field += c;
  }
  if (quoted) throw violation('', 'isCsv', 'unterminated quoted field');
  if (field !== '' || row.length || wasQuoted) endRow();
  return rows;
}

// ---- building events --------------------------------------------------------------------------------

export const unanswered = (direction: CallDirection): CallDisposition =>
  direction === 'inbound' ? 'missed' : 'no-answer';

function compact<T extends object>(payload: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
}

/** What the gateway takes as an Idempotency-Key (the header's rule): 1-200 printable ASCII, no spaces. */
const KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * A provider identity as a usable idempotency key: as is when it already is one, else a stable digest, since
 * provider values (local times with a space, long recording URLs, non-ASCII extensions) need not fit.
 */
export function idempotencyKeyOf(identity: string): string {
  return KEY.test(identity)
    ? identity
    : `sha256:${createHash('sha256').update(identity, 'utf8').digest('hex')}`;
}

/**
 * A call event, validated here so an adapter bug surfaces as a field error, not a bad message downstream.
 * recording.ready has its own contract (parties optional), so its payload may name the call alone.
 */
export function callEvent(
  type: CallEventType,
  payload: CallEventV1 | CallRecordingV1,
  idempotencyKey: string,
): AdaptedEvent {
  const clean = compact(payload);
  validateContract(type === TELEPHONY_EVENT_TYPES.recordingReady ? CallRecordingV1 : CallEventV1, clean);
  return { type, payload: clean, idempotencyKey: idempotencyKeyOf(idempotencyKey) };
}

export function callRecord(payload: CallRecordV1, idempotencyKey: string): AdaptedEvent {
  const clean = compact(payload);
  validateContract(CallRecordV1, clean);
  return {
    type: TELEPHONY_EVENT_TYPES.cdr,
    payload: clean,
    idempotencyKey: idempotencyKeyOf(idempotencyKey),
  };
}

/** Receipt time, for providers whose event carries no time of its own. */
export const receivedNow = (): string => new Date().toISOString();
