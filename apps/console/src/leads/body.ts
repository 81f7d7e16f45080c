import { ContractViolation, type FieldError } from '@switchboard/contracts';

/** Small checks for the console's JSON bodies: every problem collected, one 400 VALIDATION_FAILED. */
export class BodyReader {
  readonly errors: FieldError[] = [];
  readonly body: Record<string, unknown>;

  constructor(raw: unknown) {
    this.body =
      typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    if (this.body !== raw) this.fail('', 'isObject', 'the body must be a JSON object');
  }

  fail(field: string, rule: string, message: string): undefined {
    this.errors.push({ field, rule, message });
    return undefined;
  }

  has(field: string): boolean {
    return this.body[field] !== undefined;
  }

  string(field: string, { required = false, max = 500 } = {}): string | undefined {
    const v = this.body[field];
    if (v === undefined || v === null)
      return required ? this.fail(field, 'isDefined', `${field} is required`) : undefined;
    if (typeof v !== 'string' || !v.trim() || v.length > max || v.includes('\u0000'))
      return this.fail(field, 'isString', `${field} must be a non-empty string of at most ${max} characters`);
    return v.trim();
  }

  uuid(field: string, { required = false } = {}): string | undefined {
    const v = this.string(field, { required, max: 36 });
    if (v !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v))
      return this.fail(field, 'isUuid', `${field} must be a uuid`);
    return v?.toLowerCase();
  }

  instant(field: string, { required = false } = {}): Date | undefined {
    const v = this.string(field, { required, max: 40 });
    if (v === undefined) return undefined;
    const ms =
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) && /(Z|[+-]\d{2}:?\d{2})$/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(ms))
      return this.fail(field, 'isIso8601', `${field} must be an ISO 8601 instant, e.g. 2026-01-31T09:00:00Z`);
    return new Date(ms);
  }

  boolean(field: string): boolean | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.fail(field, 'isBoolean', `${field} must be true or false`);
    return v;
  }

  int(field: string, { min = 0, max = 1_000_000, nullable = false } = {}): number | null | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (v === null && nullable) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      return this.fail(
        field,
        'isInt',
        `${field} must be an integer ${min}-${max}${nullable ? ' or null' : ''}`,
      );
    return v;
  }

  strings(field: string, { max = 100 } = {}): string[] | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length > max || !v.every((x) => typeof x === 'string' && x.length <= 200))
      return this.fail(field, 'isArray', `${field} must be an array of at most ${max} strings`);
    return v as string[];
  }

  /** Throws the collected problems, if any. */
  done(): void {
    if (this.errors.length) throw new ContractViolation(this.errors);
  }
}
