import { ContractViolation, MAX_REPORTED_ERRORS } from './errors';
import { MAX_BODY_DEPTH, MAX_BODY_VALUES, MAX_FIELDS_PER_OBJECT, validateContract } from './validation';
import { OrderSubmittedV1 } from './website/order-submitted';

function violation(body: unknown): ContractViolation {
  try {
    validateContract(OrderSubmittedV1, body);
  } catch (err) {
    if (err instanceof ContractViolation) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('validateContract on hostile bodies', () => {
  it('refuses nesting far beyond any contract without recursing (no stack overflow)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const err = violation({ externalId: '1', customer: deep });
    expect(err.errors).toEqual([
      { field: expect.stringMatching(/^customer/), rule: 'maxDepth', message: expect.any(String) },
    ]);
  });

  it('allows nesting up to the limit to reach normal validation', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < MAX_BODY_DEPTH - 2; i++) deep = { a: deep };
    const err = violation({ externalId: '1', customer: deep });
    expect(err.errors.some((e) => e.rule === 'maxDepth')).toBe(false);
  });

  it.each(['constructor', '__proto__', 'prototype'])('refuses the field %s as unknown', (key) => {
    const body = JSON.parse(`{"externalId":"1","${key}":"x"}`) as unknown;
    expect(violation(body).errors).toEqual([
      { field: key, rule: 'whitelistValidation', message: `unknown field "${key}"` },
    ]);
  });

  it('refuses inherited member names at any depth, and lone surrogates', () => {
    expect(violation(JSON.parse('{"customer":{"valueOf":1}}')).errors[0]).toMatchObject({
      field: 'customer.valueOf',
      rule: 'whitelistValidation',
    });
    expect(violation({ customer: { email: 'a\uD800@example.com' } }).errors).toEqual([
      { field: 'customer.email', rule: 'wellFormedUnicode', message: 'must be well-formed Unicode text' },
    ]);
  });

  it('refuses items that are arrays, not objects', () => {
    expect(violation({ items: [[[]]] }).errors.some((e) => e.field.startsWith('items'))).toBe(true);
  });

  it('refuses U+0000 in values and keys, naming the field', () => {
    expect(violation({ externalId: 'a\u0000b' }).errors).toEqual([
      { field: 'externalId', rule: 'noNulCharacter', message: 'must not contain U+0000' },
    ]);
    expect(violation({ customer: { ['na\u0000me']: 'x' } }).errors[0]).toMatchObject({
      field: 'customer.na\u0000me',
      rule: 'noNulCharacter',
    });
  });

  describe('amplification caps', () => {
    it('refuses an object with more fields than any contract before validating it: one error, fast', () => {
      const body: Record<string, unknown> = { externalId: '1' };
      for (let i = 0; i < 60_000; i++) body[`k${i}`] = 1;
      const started = Date.now();
      const err = violation(body);
      expect(Date.now() - started).toBeLessThan(500);
      expect(err.errors).toEqual([{ field: '', rule: 'maxFields', message: expect.any(String) }]);
      expect(err.errorCount).toBe(1);
    });

    it('counts fields per object, nested ones too', () => {
      const customer: Record<string, unknown> = {};
      for (let i = 0; i <= MAX_FIELDS_PER_OBJECT; i++) customer[`k${i}`] = 1;
      expect(violation({ externalId: '1', customer }).errors[0]).toMatchObject({
        field: 'customer',
        rule: 'maxFields',
      });
    });

    it('refuses more array elements and fields in all than MAX_BODY_VALUES', () => {
      const err = violation({ externalId: '1', items: new Array(MAX_BODY_VALUES + 1).fill(1) });
      expect(err.errors).toEqual([{ field: 'items', rule: 'maxValues', message: expect.any(String) }]);
    });

    it('reports the first MAX_REPORTED_ERRORS field errors and how many there were', () => {
      const body: Record<string, unknown> = {};
      for (let i = 0; i < MAX_FIELDS_PER_OBJECT - 10; i++) body[`unknown${i}`] = 1;
      const err = violation(body);
      expect(err.errors).toHaveLength(MAX_REPORTED_ERRORS);
      expect(err.errorCount).toBeGreaterThan(MAX_FIELDS_PER_OBJECT - 10);
    });
  });
});
