import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { compiledContract } from './compiled-validation';
import { ContractViolation, FieldError } from './errors';

function toFieldErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([rule, message]) => ({
      field,
      rule,
      message: rule === 'whitelistValidation' ? `unknown field "${field}"` : message,
    }));
    return [...own, ...toFieldErrors(e.children ?? [], field)];
  });
}

/**
 * Turns an untrusted plain object into a validated contract instance: unknown fields are errors, not
 * silently dropped (a peer that misspells a field must hear about it), and nothing is coerced.
 */
export function validateContract<T extends object>(cls: ClassConstructor<T>, body: unknown): T {
  precheckBody(body);
  // The hot path: a body the compiled checker accepts is one class-validator accepts (see
  // compiled-validation.ts). A pure-data contract's body is returned as is: it has exactly the instance's
  // fields and values (no methods, no defaults to apply), only not its prototype, which nothing reads.
  const compiled = compiledContract(cls);
  if (compiled?.accepts(body)) {
    return compiled.plainData ? (body as T) : plainToInstance(cls, body, { enableImplicitConversion: false });
  }
  return classValidatorContract(cls, body);
}

function precheckBody(body: unknown): asserts body is object {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ContractViolation([{ field: '', rule: 'isObject', message: 'the body must be a JSON object' }]);
  }
  // The common case (nothing wrong) without building a path per value; the exact scan names the problem.
  if (cleanBody(body)) return;
  const bad = scanBody(body);
  if (bad) throw new ContractViolation([bad]);
}

/** validateContract with class-validator alone (no compiled checker): the reference the tests compare with. */
export function validateContractWithClassValidator<T extends object>(
  cls: ClassConstructor<T>,
  body: unknown,
): T {
  precheckBody(body);
  return classValidatorContract(cls, body);
}

/**
 * validateContract's class-validator path, without the compiled checker: the authority on refusals (its
 * errors are what a peer is told), and the reference the compiled checker is tested against. The caller has
 * already checked the body is an object that passes the pre-checks.
 */
export function classValidatorContract<T extends object>(cls: ClassConstructor<T>, body: object): T {
  const instance = plainToInstance(cls, body, { enableImplicitConversion: false });
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  if (errors.length) throw new ContractViolation(toFieldErrors(errors));
  return instance;
}

/** Deeper than any contract nests: beyond it a body is refused before anything walks it recursively. */
export const MAX_BODY_DEPTH = 32;
/**
 * More fields than any contract object has (the largest has about 25): a body over it is refused before
 * validation, which would otherwise do work and report an error per unknown field (60,000 keys took 3.6 s and
 * a 5 MB error list).
 */
export const MAX_FIELDS_PER_OBJECT = 100;
/** Fields and array elements in the whole body; a full order (500 items) stays well under it. */
export const MAX_BODY_VALUES = 20_000;
/** No contract has these fields; class-transformer/validator would see the inherited members instead. */
const isReservedKey = (key: string): boolean =>
  key === '__proto__' || key === 'prototype' || Object.prototype.hasOwnProperty.call(Object.prototype, key);

/** No lone surrogates (String.prototype.isWellFormed, native since Node 20 and in the ES2024 lib). */
const isWellFormed = (s: string): boolean => s.isWellFormed();

/**
 * The fields and array elements of a body as scanBody counts them against MAX_BODY_VALUES (every own key of
 * every object and array in it), for plain data: an array counts its length, an object its enumerable keys,
 * so holes or inherited keys can only count more than the scan does, never less. Whoever packs several
 * bodies into one (the 1C exchange's catalog batches) keeps the sum under the cap, or the receiver refuses
 * the whole. Without Object.keys' array per object: this runs for every fact of a catalog.
 */
export function countBodyValues(body: unknown): number {
  if (typeof body !== 'object' || body === null) return 0;
  const stack: object[] = [body];
  let values = 0;
  while (stack.length) {
    const value = stack.pop()!;
    if (Array.isArray(value)) {
      values += value.length;
      for (const child of value as unknown[]) {
        if (typeof child === 'object' && child !== null) stack.push(child);
      }
      continue;
    }
    for (const key in value) {
      values++;
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return values;
}

/** isReservedKey's names, looked up once (Object.prototype's own members as the process started with). */
const RESERVED_KEYS = new Set(['__proto__', 'prototype', ...Object.getOwnPropertyNames(Object.prototype)]);

/** A string value or key scanBody accepts: no U+0000, no lone surrogate. */
const cleanText = (s: string): boolean => !s.includes('\u0000') && isWellFormed(s);

/**
 * Whether scanBody would find nothing, without the paths it reports: it refuses whatever scanBody refuses
 * (so false only sends the body to scanBody, whose answer is kept), at a fraction of the allocation.
 */
function cleanBody(body: object): boolean {
  const values: unknown[] = [body];
  const depths: number[] = [0];
  let count = 0;
  while (values.length) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === 'string') {
      if (!cleanText(value)) return false;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_BODY_DEPTH) return false;
    if (Array.isArray(value)) {
      count += value.length;
      if (count > MAX_BODY_VALUES) return false;
      // Arrays' keys are their indexes (scanBody reads them from Object.keys: no holes in JSON-born arrays,
      // and an array with extra own properties goes the exact way).
      if (Object.keys(value).length !== value.length) return false;
      for (let i = 0; i < value.length; i++) {
        values.push(value[i]);
        depths.push(depth + 1);
      }
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > MAX_FIELDS_PER_OBJECT) return false;
    count += keys.length;
    if (count > MAX_BODY_VALUES) return false;
    for (const key of keys) {
      if (RESERVED_KEYS.has(key) || !cleanText(key)) return false;
      values.push((value as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return true;
}

/**
 * One iterative pass over the untrusted body, before class-transformer (which recurses) sees it: refuses
 * nesting deeper than MAX_BODY_DEPTH, fields named like Object.prototype members, lone surrogates, and strings
 * or keys containing U+0000, which no text column can store, and bodies over MAX_FIELDS_PER_OBJECT /
 * MAX_BODY_VALUES.
 */
function scanBody(body: object): FieldError | null {
  const stack: Array<[unknown, string, number]> = [[body, '', 0]];
  let values = 0;
  while (stack.length) {
    const [value, path, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000'))
        return { field: path, rule: 'noNulCharacter', message: 'must not contain U+0000' };
      // A lone surrogate is not text, and validators that URI-encode it (isEmail) would throw.
      if (!isWellFormed(value))
        return { field: path, rule: 'wellFormedUnicode', message: 'must be well-formed Unicode text' };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_BODY_DEPTH) {
      return { field: path, rule: 'maxDepth', message: `nesting deeper than ${MAX_BODY_DEPTH} levels` };
    }
    // Counted before Object.entries copies them: the caps bound the work as well as the answer.
    const keys = Object.keys(value);
    if (!Array.isArray(value) && keys.length > MAX_FIELDS_PER_OBJECT) {
      return {
        field: path,
        rule: 'maxFields',
        message: `more than ${MAX_FIELDS_PER_OBJECT} fields in one object (${keys.length})`,
      };
    }
    values += keys.length;
    if (values > MAX_BODY_VALUES) {
      return {
        field: path,
        rule: 'maxValues',
        message: `more than ${MAX_BODY_VALUES} fields and array elements in the body`,
      };
    }
    for (const key of keys) {
      const child = (value as Record<string, unknown>)[key];
      const childPath = path ? `${path}.${key}` : key;
      if (isReservedKey(key)) {
        return { field: childPath, rule: 'whitelistValidation', message: `unknown field "${childPath}"` };
      }
      if (key.includes('\u0000') || !isWellFormed(key))
        return {
          field: childPath,
          rule: 'noNulCharacter',
          message: 'must be well-formed text without U+0000',
        };
      stack.push([child, childPath, depth + 1]);
    }
  }
  return null;
}
