import { ContractViolation } from '@switchboard/contracts';
import {
  decodeCursor,
  encodeCursor,
  parseCallLimit,
  parseCallListQuery,
  parseCallStatsQuery,
  parseInstant,
} from './call-query.service';

const ID = '0b6f3c1e-6a55-4c1f-9a43-2d8e3f1a7b90';

/** The field errors a call throws (fails the test when it does not throw a ContractViolation). */
function violations(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as ContractViolation).errors.map((x) => [x.field, x.rule]);
  }
  throw new Error('expected a ContractViolation');
}

describe('parseInstant', () => {
  it.each([
    ['2025-01-31T00:00:00Z', Date.UTC(2025, 0, 31)],
    ['2025-01-31T00:00Z', Date.UTC(2025, 0, 31)],
    ['2025-01-31T03:00:00+03:00', Date.UTC(2025, 0, 31)],
    ['2025-01-31T03:00:00+0300', Date.UTC(2025, 0, 31)],
    ['2025-01-30T19:00:00.5-05:00', Date.UTC(2025, 0, 31, 0, 0, 0, 500)],
    ['2025-01-31T00:00:00.123456Z', Date.UTC(2025, 0, 31, 0, 0, 0, 123)],
    ['2024-02-29T12:00:00Z', Date.UTC(2024, 1, 29, 12)],
  ])('%s', (raw, ms) => {
    expect(parseInstant(raw)).toBe(ms);
  });

  it.each([
    '2025-01-31',
    '2025-01-31T00:00:00',
    '2025-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-31T24:00:00Z',
    '2025-01-31T23:60:00Z',
    '2025-01-31T23:59:60Z',
    '2025-01-31t00:00:00z',
    '1738281600000',
    'yesterday',
    '',
    "2025-01-31T00:00:00Z'; DROP TABLE call_logs; --",
    // PostgreSQL has no year 0000: these were database errors (500s).
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00+01:00',
  ])('rejects %p', (raw) => {
    expect(parseInstant(raw)).toBeNull();
  });
});

describe('parseCallLimit', () => {
  it('defaults to 50 and accepts 1-500', () => {
    expect(parseCallLimit(undefined)).toBe(50);
    expect(parseCallLimit('1')).toBe(1);
    expect(parseCallLimit('500')).toBe(500);
  });
  it.each(['0', '501', '-1', '1.5', '1e2', ' 10', '', 'ten'])('rejects %p', (raw) => {
    expect(violations(() => parseCallLimit(raw))).toEqual([['limit', 'range']]);
  });
});

describe('cursor', () => {
  const cursor = { startedAt: '2025-01-31T10:00:00.123456Z', id: ID };

  it('round-trips and is opaque base64url', () => {
    const raw = encodeCursor(cursor);
    expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(raw)).toEqual(cursor);
  });

  it('lower-cases the id', () => {
    expect(decodeCursor(encodeCursor({ ...cursor, id: ID.toUpperCase() })).id).toBe(ID);
  });

  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  it.each([
    ['not base64url', 'abc+/='],
    ['empty', ''],
    ['no separator', b64(`2025-01-31T10:00:00.123456Z${ID}`)],
    ['extra part', b64(`2025-01-31T10:00:00.123456Z|${ID}|x`)],
    ['bad id', b64('2025-01-31T10:00:00.123456Z|not-a-uuid')],
    ['millisecond timestamp', b64(`2025-01-31T10:00:00.123Z|${ID}`)],
    ['impossible date', b64(`2025-02-30T10:00:00.000000Z|${ID}`)],
    ['sql', b64(`2025-01-31T10:00:00.123456Z'--|${ID}`)],
    ['too long', 'A'.repeat(201)],
  ])('rejects %s', (_, raw) => {
    expect(violations(() => decodeCursor(raw))).toEqual([['cursor', 'isCursor']]);
  });
});

describe('parseCallListQuery', () => {
  it('gives the defaults for an empty query', () => {
    expect(parseCallListQuery({}, 'RU')).toEqual({ limit: 50 });
  });

  it('parses every filter', () => {
    const cursor = encodeCursor({ startedAt: '2025-01-31T10:00:00.000000Z', id: ID });
    expect(
      parseCallListQuery(
        {
          phone: '8 (912) 345-67-89',
          contactId: ID,
          leadId: ID.toUpperCase(),
          managerId: ID,
          direction: 'inbound',
          disposition: 'no-answer',
          from: '2025-01-01T00:00:00Z',
          to: '2025-02-01T00:00:00+03:00',
          limit: '10',
          cursor,
        },
        'RU',
      ),
    ).toEqual({
      customerPhone: '+79123456789',
      contactId: ID,
      leadId: ID,
      managerId: ID,
      direction: 'inbound',
      disposition: 'no-answer',
      from: '2025-01-01T00:00:00Z',
      to: '2025-02-01T00:00:00+03:00',
      limit: 10,
      cursor: { startedAt: '2025-01-31T10:00:00.000000Z', id: ID },
    });
  });

  it('normalizes the phone with the default region', () => {
    expect(parseCallListQuery({ phone: '(202) 555-0143' }, 'US').customerPhone).toBe('+12025550143');
  });

  it.each([
    [{ phone: 'call me' }, 'phone', 'isPhone'],
    [{ contactId: 'abc' }, 'contactId', 'isUuid'],
    [{ leadId: `${ID}x` }, 'leadId', 'isUuid'],
    [{ managerId: '' }, 'managerId', 'isUuid'],
    [{ direction: 'sideways' }, 'direction', 'isIn'],
    [{ disposition: 'ANSWERED' }, 'disposition', 'isIn'],
    [{ disposition: 'no_answer' }, 'disposition', 'isIn'],
    [{ from: '2025-01-01' }, 'from', 'isIso8601'],
    [{ to: 'now' }, 'to', 'isIso8601'],
    [{ from: '2025-01-02T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'to', 'range'],
    [{ from: '2025-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'to', 'range'],
    [{ limit: '0' }, 'limit', 'range'],
    [{ cursor: 'x' }, 'cursor', 'isCursor'],
    [{ contactId: [ID, ID] }, 'contactId', 'single'],
    [{ phone: ['+79123456789', '+79123456780'] }, 'phone', 'single'],
  ])('rejects %p', (q, field, rule) => {
    expect(violations(() => parseCallListQuery(q, 'RU'))).toEqual([[field, rule]]);
  });
});

describe('parseCallStatsQuery', () => {
  it('normalizes the bounds to UTC', () => {
    expect(parseCallStatsQuery({ from: '2025-01-01T00:00:00+03:00', to: '2025-02-01T00:00:00Z' })).toEqual({
      from: '2024-12-31T21:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
    });
  });

  it('accepts a span of exactly 366 days', () => {
    expect(() =>
      parseCallStatsQuery({ from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }),
    ).not.toThrow();
  });

  it('requires both bounds', () => {
    expect(violations(() => parseCallStatsQuery({}))).toEqual([
      ['from', 'required'],
      ['to', 'required'],
    ]);
    expect(violations(() => parseCallStatsQuery({ from: '2025-01-01T00:00:00Z' }))).toEqual([
      ['to', 'required'],
    ]);
  });

  it.each([
    [{ from: 'x', to: '2025-01-01T00:00:00Z' }, 'from', 'isIso8601'],
    [{ from: '2025-01-01T00:00:00Z', to: '2025-01-01' }, 'to', 'isIso8601'],
    [{ from: '2025-01-02T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'to', 'range'],
    [{ from: '2025-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'to', 'range'],
    [{ from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00.001Z' }, 'to', 'range'],
    [{ from: ['2025-01-01T00:00:00Z'], to: '2025-01-02T00:00:00Z' }, 'from', 'single'],
  ])('rejects %p', (q, field, rule) => {
    expect(violations(() => parseCallStatsQuery(q))).toEqual([[field, rule]]);
  });
});
