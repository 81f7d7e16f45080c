import { ContractViolation } from './errors';
import { MAX_BODY_DEPTH, validateContract } from './validation';
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
});
