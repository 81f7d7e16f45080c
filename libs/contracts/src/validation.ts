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
