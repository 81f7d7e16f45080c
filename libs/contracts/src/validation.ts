import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
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
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ContractViolation([{ field: '', rule: 'isObject', message: 'the body must be a JSON object' }]);
  }
  const nul = findNulString(body, '');
  if (nul !== null) {
    // No text column can store U+0000; refuse here rather than fail in the database later.
    throw new ContractViolation([{ field: nul, rule: 'noNulCharacter', message: 'must not contain U+0000' }]);
  }
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

/** Path of the first string (value or key) containing U+0000, or null. */
function findNulString(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return childPath;
    const found = findNulString(child, childPath);
    if (found !== null) return found;
  }
  return null;
}
