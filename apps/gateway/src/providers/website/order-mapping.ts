import { ContractViolation } from '@switchboard/contracts';
import type { ProviderRequest } from '../provider-adapter';

/**
 * Pure helpers shared by the shop adapters. Provider bodies are untrusted and evolve, so every reader takes
 * `unknown` and either returns a value or throws a ContractViolation naming the provider's own field path.
 */

export type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An optional nested object; absent or malformed reads as empty so optional data never blocks an order. */
export const record = (value: unknown): Json => (isRecord(value) ? value : {});

export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Trimmed non-empty text, else undefined: shops send "" for blank fields and the contract forbids "". */
export const text = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
};

export const firstText = (...values: unknown[]): string | undefined => {
  for (const value of values) {
    const found = text(value);
    if (found !== undefined) return found;
  }
  return undefined;
};

/** Non-empty parts joined by `separator`, or undefined when all are blank. */
export const joinText = (parts: unknown[], separator: string): string | undefined => {
  const present = parts.map(text).filter((p): p is string => p !== undefined);
  return present.length ? present.join(separator) : undefined;
};

export function violation(field: string, rule: string, message: string): ContractViolation {
  return new ContractViolation([{ field, rule, message }], `${field || 'body'}: ${message}`);
}

export function requireObject(body: unknown): Json {
  if (!isRecord(body)) throw violation('', 'isObject', 'the body must be a JSON object');
  return body;
}

/** Case-insensitive single-valued header; a repeated header is ambiguous and reads as its joined value. */
export function headerValue(req: Pick<ProviderRequest, 'headers'>, name: string): string | undefined {
  const key = Object.keys(req.headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : req.headers[key];
  return text(Array.isArray(value) ? value.join(', ') : value);
}

/**
 * An id as an exact decimal string. Provider JSON is parsed losslessly (integers above 2^53 arrive as their
 * exact text); a number that is not a safe integer was rounded somewhere, so it is refused rather than turned
 * into somebody else's id.
 */
export function exactId(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : undefined;
  return typeof value === 'string' && /^\d+$/.test(value) && !/^0+$/.test(value) ? value : undefined;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Shops send money as decimal strings ("29.35"); numbers are accepted too. Anything else (thousands separators,
 * decimal commas, currency signs, exponents) is refused: guessing a locale could misplace the decimal point.
 * Range and precision are left to the contract, which reports them under its own field names.
 */
export function parseMoney(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  throw violation(field, 'isDecimal', `must be a decimal amount such as "29.35", got ${describe(value)}`);
}

/** The contract allows 4 decimal places; a computed unit price (line total / quantity) may have more. */
export const roundMoney = (amount: number): number => Number(amount.toFixed(4));

export function positiveInt(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  throw violation(field, 'isPositiveInt', `must be a whole number above 0, got ${describe(value)}`);
}

const TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * A provider timestamp as canonical UTC ISO 8601 (`...T..:..:..sssZ`), or undefined when blank.
 * `naiveIs: 'utc'` is for fields documented as UTC but sent without a zone (WooCommerce `*_gmt`); otherwise a
 * zoneless time is ambiguous and refused. Impossible dates (Feb 30, 24:00) are refused, not rolled over as
 * `Date.parse` would.
 */
export function utcTimestamp(
  value: unknown,
  field: string,
  naiveIs: 'utc' | 'ambiguous',
): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const m = typeof value === 'string' ? TIMESTAMP.exec(value) : null;
  const zone = m?.[8] ?? (naiveIs === 'utc' ? 'Z' : undefined);
  if (!m || zone === undefined) {
    throw violation(
      field,
      'isTimestamp',
      `must be an ISO 8601 date and time with a zone, got ${describe(value)}`,
    );
  }
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const wall = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const real =
    wall.getUTCFullYear() === y &&
    wall.getUTCMonth() === mo - 1 &&
    wall.getUTCDate() === d &&
    wall.getUTCHours() === h &&
    wall.getUTCMinutes() === mi &&
    wall.getUTCSeconds() === s;
  if (!real) throw violation(field, 'isTimestamp', `is not a real date and time: ${describe(value)}`);
  const fraction = Number(m[7] ?? 0) * 1000;
  return new Date(wall.getTime() + Math.trunc(fraction) - zoneOffsetMs(zone)).toISOString();
}

function zoneOffsetMs(zone: string): number {
  if (zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return (zone.startsWith('-') ? -minutes : minutes) * 60_000;
}

const UTM_KEYS = ['source', 'medium', 'campaign', 'term', 'content'] as const;
type UtmKey = (typeof UTM_KEYS)[number];
/** The contract's limit per UTM value. */
const UTM_MAX = 200;

/**
 * UTM values as the contract's `utm` object, or undefined when there are none. Attribution is best-effort
 * metadata: an overlong value is cut to the contract's limit instead of costing the whole order.
 */
export function utmObject(read: (key: UtmKey) => unknown): Partial<Record<UtmKey, string>> | undefined {
  const utm: Partial<Record<UtmKey, string>> = {};
  for (const key of UTM_KEYS) {
    const value = text(read(key));
    if (value !== undefined) utm[key] = value.slice(0, UTM_MAX);
  }
  return Object.keys(utm).length ? utm : undefined;
}

/** Drops undefined members so the payload carries only what the provider actually sent. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Short, log-safe rendering of an offending value for error messages. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
