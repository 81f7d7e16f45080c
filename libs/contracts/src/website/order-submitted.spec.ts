import { ContractViolation } from '../errors';
import { CONTRACTS, EventType } from '../registry';
import { validateContract } from '../validation';
import { decimalPlaces, OrderSubmittedV1 } from './order-submitted';

const validOrder = () => ({
  externalId: 'A-1001',
  status: 'new',
  createdAt: '2026-11-20T10:00:00Z',
  updatedAt: '2026-11-20T10:00:00Z',
  customer: { name: 'Anna Petrova', phone: '8 (912) 345-67-89', email: 'anna@example.com' },
  deliveryAddress: 'Moscow, Tverskaya 1',
  items: [{ sku: 'SKU-1', name: 'Kettle', quantity: 2, price: 1500.5 }],
  total: 3001,
  currency: 'RUB',
  utm: { source: 'google', medium: 'cpc', campaign: 'autumn' },
});

function violations(body: unknown) {
  try {
    validateContract(OrderSubmittedV1, body);
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as ContractViolation).errors;
  }
  throw new Error('expected a violation');
}

describe('website.order.submitted v1', () => {
  it('accepts a valid order and keeps externalId exactly', () => {
    const order = validateContract(OrderSubmittedV1, { ...validOrder(), externalId: '  a-1001 ' });
    expect(order.externalId).toBe('  a-1001 ');
    expect(order.items[0].quantity).toBe(2);
  });

  it('accepts a customer with only an email or only a phone', () => {
    expect(() =>
      validateContract(OrderSubmittedV1, { ...validOrder(), customer: { email: 'a@b.co' } }),
    ).not.toThrow();
    expect(() =>
      validateContract(OrderSubmittedV1, { ...validOrder(), customer: { phone: '+79123456789' } }),
    ).not.toThrow();
  });

  it('names every missing or mistyped field by path', () => {
    const body = {
      ...validOrder(),
      total: '3001',
      items: [{ sku: 'S', name: 'N', quantity: 1.5, price: 1 }],
    } as Record<string, unknown>;
    delete body.externalId;
    const fields = violations(body).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['externalId', 'total', 'items.0.quantity']));
  });

  it('refuses amounts with more than 4 decimal places, exponent-printed ones too (a 500 once)', () => {
    for (const price of [4.9e-324, 1e-7, 1.5e-5, 0.00001]) {
      const body = { ...validOrder(), items: [{ sku: 'S', name: 'N', quantity: 1, price }] };
      expect(violations(body)).toEqual([
        expect.objectContaining({ field: 'items.0.price', rule: 'isNumber' }),
      ]);
    }
    for (const total of [0.0001, 250.5, 1e3, 1e12]) {
      expect(() => validateContract(OrderSubmittedV1, { ...validOrder(), total })).not.toThrow();
    }
    expect([5e-324, 1.5e-7, 0.1234, 1e21, 42].map(decimalPlaces)).toEqual([324, 8, 4, 0, 0]);
  });

  it('rejects unknown fields, nested ones too', () => {
    const errs = violations({ ...validOrder(), coupon: 'X', customer: { phone: '+79123456789', age: 3 } });
    expect(errs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'coupon', rule: 'whitelistValidation' }),
        expect.objectContaining({ field: 'customer.age', rule: 'whitelistValidation' }),
      ]),
    );
  });

  it('requires a phone or an email', () => {
    expect(violations({ ...validOrder(), customer: { name: 'No Contact' } }).map((e) => e.field)).toEqual(
      expect.arrayContaining(['customer.phone', 'customer.email']),
    );
  });

  it.each([
    ['status', 'teleported'],
    ['createdAt', '20/11/2026'],
    ['currency', 'RUBLES'],
    ['items', []],
    ['customer', 'Anna'],
  ])('rejects bad %s', (field, value) => {
    expect(violations({ ...validOrder(), [field]: value }).map((e) => e.field)).toContain(field);
  });

  it.each([null, [], 'text', 42])('rejects a non-object body %p', (body) => {
    expect(violations(body)[0].rule).toBe('isObject');
  });

  it('derives the idempotency key from the order version', () => {
    const c = CONTRACTS[EventType.WebsiteOrderSubmitted];
    const o = validateContract(OrderSubmittedV1, validOrder());
    expect(c.naturalKey(o)).toBe('order:A-1001@2026-11-20T10:00:00Z:new');
    expect(c.naturalKey({ ...o, status: 'paid' })).not.toBe(c.naturalKey(o));
  });

  it.each([
    ['createdAt', '0000-01-01T00:00:00Z'],
    ['createdAt', '2026-11-20'],
    ['updatedAt', '9999-12-31T23:59:59Z'],
    ['paidAt', '1066-10-14T09:00:00Z'],
  ])('rejects %s %p (no time, or a year no business event has)', (field, value) => {
    expect(violations({ ...validOrder(), [field]: value }).map((e) => e.field)).toContain(field);
  });

  it('rejects U+0000 anywhere, naming where', () => {
    expect(violations({ ...validOrder(), customer: { name: 'A\u0000B', phone: '+79123456789' } })).toEqual([
      expect.objectContaining({ field: 'customer.name', rule: 'noNulCharacter' }),
    ]);
    expect(
      violations({
        ...validOrder(),
        items: [{ sku: 'S', name: 'ok', quantity: 1, price: 1, 'x\u0000': 1 }],
      })[0],
    ).toMatchObject({
      field: 'items.0.x\u0000',
      rule: 'noNulCharacter',
    });
  });
});
