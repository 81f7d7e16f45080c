import { ContractViolation } from '@switchboard/contracts';
import { exactId, joinText, parseMoney, roundMoney, utcTimestamp } from './order-mapping';

describe('utcTimestamp', () => {
  it.each([
    ['2017-03-22T19:28:02', 'utc', '2017-03-22T19:28:02.000Z'],
    ['2008-01-10T11:00:00-05:00', 'ambiguous', '2008-01-10T16:00:00.000Z'],
    ['2024-12-31T23:30:00+0300', 'ambiguous', '2024-12-31T20:30:00.000Z'],
    ['2024-06-01T05:00:00.123456+05:30', 'ambiguous', '2024-05-31T23:30:00.123Z'],
    ['2024-02-29T00:00:00Z', 'ambiguous', '2024-02-29T00:00:00.000Z'],
  ] as const)('%s (%s) -> %s', (value, naive, expected) => {
    expect(utcTimestamp(value, 'f', naive)).toBe(expected);
  });

  it('treats blank as absent', () => {
    expect(utcTimestamp(null, 'f', 'utc')).toBeUndefined();
    expect(utcTimestamp('', 'f', 'utc')).toBeUndefined();
  });

  it.each([
    '2023-02-29T00:00:00',
    '2024-01-01T24:00:00',
    '2024-13-01T00:00:00',
    '22/03/2017 19:28',
    1490210882,
  ])('refuses %p', (value) => {
    expect(() => utcTimestamp(value, 'f', 'utc')).toThrow(ContractViolation);
  });
});

describe('parseMoney', () => {
  it('reads decimal strings and finite numbers', () => {
    expect(parseMoney('29.35', 'f')).toBe(29.35);
    expect(parseMoney('0012.50', 'f')).toBe(12.5);
    expect(parseMoney(3, 'f')).toBe(3);
  });

  it.each(['12,50', '.5', '5.', '+5', 'Infinity', Number.NaN, Number.POSITIVE_INFINITY, {}])(
    'refuses %p',
    (v) => {
      expect(() => parseMoney(v, 'f')).toThrow(ContractViolation);
    },
  );

  it('rounds computed amounts to the 4 places the contract allows', () => {
    expect(roundMoney(10 / 3)).toBe(3.3333);
    expect(roundMoney(0.1 + 0.2)).toBe(0.3);
  });
});

describe('exactId and joinText', () => {
  it('keeps only ids that are exact', () => {
    expect(exactId(727)).toBe('727');
    expect(exactId('820982911946154508')).toBe('820982911946154508');
    expect(exactId(JSON.parse('820982911946154508'))).toBeUndefined(); // already rounded by JSON.parse
    expect(exactId(0)).toBeUndefined();
    expect(exactId('12a')).toBeUndefined();
  });

  it('joins only non-blank parts', () => {
    expect(joinText([' a ', '', null, 'b'], ', ')).toBe('a, b');
    expect(joinText(['', '  '], ', ')).toBeUndefined();
  });
});
