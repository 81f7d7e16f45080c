import { ContractViolation } from '@switchboard/contracts';
import {
  Fields,
  idempotencyKeyOf,
  localToUtc,
  parseCallerId,
  parseCsv,
  toInt,
  unixToIso,
  urlPath,
} from './parse';

describe('localToUtc', () => {
  it('reads wall-clock time in the peer zone', () => {
    expect(localToUtc('2024-03-31 12:00:00', 'Europe/Moscow', 'start')).toBe('2024-03-31T09:00:00.000Z');
    expect(localToUtc('2024-07-01 12:00:00', 'Europe/Berlin', 'start')).toBe('2024-07-01T10:00:00.000Z');
    expect(localToUtc('2024-01-15 12:00:00', 'Europe/Berlin', 'start')).toBe('2024-01-15T11:00:00.000Z');
    expect(localToUtc('2024-01-15 12:00:00', 'Asia/Kolkata', 'start')).toBe('2024-01-15T06:30:00.000Z');
  });

  it('treats a null zone as UTC and honours explicit offsets', () => {
    expect(localToUtc('2024-01-15 12:00:00', null, 'start')).toBe('2024-01-15T12:00:00.000Z');
    expect(localToUtc('2024-01-15T12:00:00+03:00', 'Europe/Berlin', 'start')).toBe(
      '2024-01-15T09:00:00.000Z',
    );
    expect(localToUtc('2024-01-15T12:00:00Z', 'Europe/Berlin', 'start')).toBe('2024-01-15T12:00:00.000Z');
  });

  it('moves a time in the skipped spring-forward hour forward, like the clock did', () => {
    // Berlin 02:00 CET -> 03:00 CEST on 2024-03-31; 02:30 does not exist, it is 03:30 CEST.
    expect(localToUtc('2024-03-31 02:30:00', 'Europe/Berlin', 'start')).toBe('2024-03-31T01:30:00.000Z');
    expect(localToUtc('2024-03-31 03:00:00', 'Europe/Berlin', 'start')).toBe('2024-03-31T01:00:00.000Z');
    expect(localToUtc('2024-03-31 01:59:59', 'Europe/Berlin', 'start')).toBe('2024-03-31T00:59:59.000Z');
  });

  it('picks the first repeated fall-back hour unless it would precede notBefore', () => {
    // Berlin 2024-10-27 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    expect(localToUtc('2024-10-27 02:30:00', 'Europe/Berlin', 'end')).toBe('2024-10-27T00:30:00.000Z');
    expect(localToUtc('2024-10-27 02:10:00', 'Europe/Berlin', 'end', '2024-10-27T00:50:00.000Z')).toBe(
      '2024-10-27T01:10:00.000Z',
    );
    expect(localToUtc('2024-11-03 01:30:00', 'America/New_York', 'end')).toBe('2024-11-03T05:30:00.000Z');
    // Russia still had DST in 2010: 03:00 MSD -> 02:00 MSK on 2010-10-31.
    expect(localToUtc('2010-10-31 02:30:00', 'Europe/Moscow', 'end')).toBe('2010-10-30T22:30:00.000Z');
  });

  it('rejects what is not a date', () => {
    expect(() => localToUtc('2024-02-30 10:00:00', 'UTC', 'start')).toThrow(ContractViolation);
    expect(() => localToUtc('31.03.2024 10:00', 'UTC', 'start')).toThrow(ContractViolation);
    expect(() => localToUtc('2024-03-31 24:00:00', 'UTC', 'start')).toThrow(ContractViolation);
  });
});

describe('parseCallerId', () => {
  it.each([
    ['"Иван" <+79123456789>', { name: 'Иван', number: '+79123456789' }],
    ['"Иван Петров" <+79123456789>', { name: 'Иван Петров', number: '+79123456789' }],
    ['  Иван Петров <+79123456789>  ', { name: 'Иван Петров', number: '+79123456789' }],
    ['"Петров, Иван <отдел>" <101>', { name: 'Петров, Иван <отдел>', number: '101' }],
    ['Ivan Petrov <101>', { name: 'Ivan Petrov', number: '101' }],
    ['"Say \\"hi\\"" <102>', { name: 'Say "hi"', number: '102' }],
    ['"" <+79123456789>', { number: '+79123456789' }],
    ['<103>', { number: '103' }],
    ['+79123456789', { number: '+79123456789' }],
    ['', { number: '' }],
  ])('%s', (raw, expected) => expect(parseCallerId(raw)).toEqual(expected));
});

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, commas, unicode, CRLF and blank lines', () => {
    const text = '"a","""Иван"" <1>","x,y",90,""\r\n\r\n"b",,"multi\nline",0\n';
    expect(parseCsv(text)).toEqual([
      ['a', '"Иван" <1>', 'x,y', '90', ''],
      ['b', '', 'multi\nline', '0'],
    ]);
  });

  it('keeps a last line without newline and rejects an unterminated quote', () => {
    expect(parseCsv('1,2')).toEqual([['1', '2']]);
    expect(() => parseCsv('"open,1')).toThrow(ContractViolation);
  });
});

describe('field reads', () => {
  it('turns durations given as strings into numbers and refuses fractions or negatives', () => {
    expect(toInt('42', 'd')).toBe(42);
    expect(toInt(42, 'd')).toBe(42);
    expect(() => toInt('4.5', 'd')).toThrow(ContractViolation);
    expect(() => toInt(-1, 'd')).toThrow(ContractViolation);
  });

  it('reads unix seconds as numbers or digits', () => {
    expect(unixToIso(1634561740, 't')).toBe('2021-10-18T12:55:40.000Z');
    expect(unixToIso('1634561740', 't')).toBe('2021-10-18T12:55:40.000Z');
    expect(() => unixToIso('soon', 't')).toThrow(ContractViolation);
  });

  it('treats a repeated form field as an error, not first-wins', () => {
    const f = Fields.fromForm(Buffer.from('a=1&a=2&__proto__=x'));
    expect(() => f.str('a')).toThrow(ContractViolation);
    expect(f.str('__proto__')).toBe('x');
  });

  it('keeps usable idempotency keys and digests the rest (spaces, length, non-ASCII)', () => {
    expect(idempotencyKeyOf('mango:abc=:started:1')).toBe('mango:abc=:started:1');
    const spaced = idempotencyKeyOf('asterisk:1.2:cdr:SIP/1@2024-03-31 12:00:00');
    expect(spaced).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(idempotencyKeyOf('asterisk:1.2:cdr:SIP/1@2024-03-31 12:00:00')).toBe(spaced);
    expect(idempotencyKeyOf(`twilio:CA1:recording:https://x/${'a'.repeat(300)}`)).toMatch(/^sha256:/);
    expect(idempotencyKeyOf('zadarma:in_1:ringing:Иван')).toMatch(/^sha256:/);
  });

  it('strips scheme, host and query from a URL', () => {
    expect(urlPath('https://sb.example/hooks/mango/events/call?x=1')).toBe('/hooks/mango/events/call');
    expect(urlPath('/hooks/mango/events/summary')).toBe('/hooks/mango/events/summary');
  });
});
