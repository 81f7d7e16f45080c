import { CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { qualify, requestFingerprint, validEmail, validPhone } from './qualify';

/** validPhone as first written (isValid, then getType): the one-walk version must answer alike. */
function referenceValidPhone(raw: string, region: string): string | null {
  const cleaned = raw.trim();
  if (!/\d/.test(cleaned) || cleaned.length > 40) return null;
  const candidate = cleaned.startsWith('00') ? `+${cleaned.slice(2)}` : cleaned;
  const parsed = parsePhoneNumberFromString(candidate, region as CountryCode);
  if (!parsed || !parsed.isValid()) return null;
  const type = parsed.getType();
  if (type && !['MOBILE', 'FIXED_LINE', 'FIXED_LINE_OR_MOBILE'].includes(type)) return null;
  return parsed.number;
}

describe('validPhone', () => {
  it.each([
    ['8 (912) 345-67-89', '+79123456789'],
    ['+7 495 123-45-67', '+74951234567'],
    ['8 800 555-35-35', null], // toll free: nobody to call back
    ['12345', null],
  ])('%s -> %s', (raw, expected) => {
    expect(validPhone(raw, 'RU')).toBe(expected);
  });
});

describe('validPhone against the isValid + getType reference', () => {
  // Numbers of many plans and kinds (mobile, fixed, toll-free, premium, short, too long, non-geographic
  // +800/+808/+870/+878/+881/+882/+883/+888/+979), each also with its last digit changed.
  const samples = [
    '8 (912) 345-67-89',
    '+7 495 123-45-67',
    '8 800 555-35-35',
    '8 809 505-01-23',
    '+7 700 123 4567',
    '+1 212 555 0123',
    '+1 800 555 0199',
    '+1 900 555 0123',
    '+44 20 7946 0958',
    '+44 7700 900123',
    '+44 800 123 4567',
    '+49 30 12345678',
    '+49 1512 3456789',
    '+33 1 23 45 67 89',
    '+33 6 12 34 56 78',
    '+380 44 123 4567',
    '+375 29 123-45-67',
    '+86 138 0013 8000',
    '+81 3-1234-5678',
    '+61 2 9876 5432',
    '+800 1234 5678',
    '+808 1234 5678',
    '+870 7712 34567',
    '+878 1012 3456 7890',
    '+881 6 1234 5678',
    '+882 3456 7890',
    '+883 5100 1234',
    '+888 123 4567',
    '+979 1 2345 6789',
    '+42 1234 5678',
    '+247 4321',
    '+290 22158',
    '+500 51234',
    '112',
    '0012125550123',
    '+7 (916) 000-00-07',
    '8 916 0000007',
  ];
  const variants = samples.flatMap((s) => [s, s.slice(0, -1) + String((Number(s.slice(-1)) + 3) % 10)]);
  it.each(variants.flatMap((raw) => ['RU', 'US', 'GB', 'DE'].map((region) => [raw, region])))(
    '%s in %s',
    (raw, region) => {
      expect(validPhone(raw, region)).toBe(referenceValidPhone(raw, region));
    },
  );
});

describe('validEmail', () => {
  it.each([
    ['Anna@Example.com', 'anna@example.com'],
    ['anna@localhost', null],
    ['anna@@example.com', null],
    ['an na@example.com', null],
  ])('%s -> %s', (raw, expected) => {
    expect(validEmail(raw)).toBe(expected);
  });
});

describe('qualify', () => {
  it('takes a reachable person as new', () => {
    expect(qualify({ name: 'Anna', phone: '89123456789' }, 'RU')).toMatchObject({
      status: 'new',
      phone: '+79123456789',
    });
    expect(qualify({ email: 'anna@example.com' }, 'RU').status).toBe('new');
  });
  it('keeps the unreachable as unqualified with the reason', () => {
    expect(qualify({}, 'RU')).toMatchObject({ status: 'unqualified', reason: 'noContact' });
    expect(qualify({ phone: '123' }, 'RU')).toMatchObject({ status: 'unqualified', reason: 'invalidPhone' });
    expect(qualify({ email: 'x@' }, 'RU')).toMatchObject({ status: 'unqualified', reason: 'invalidEmail' });
    expect(qualify({ email: 'x@mailinator.com' }, 'RU')).toMatchObject({
      status: 'unqualified',
      reason: 'disposableEmail',
    });
  });
  it('marks spam as junk', () => {
    expect(qualify({ phone: '89123456789', honeypot: 'x' }, 'RU')).toMatchObject({
      status: 'junk',
      reason: 'honeypot',
    });
    expect(qualify({ name: 'Cheap pills http://spam.example', phone: '89123456789' }, 'RU')).toMatchObject({
      status: 'junk',
      reason: 'linkInName',
    });
  });
  it('fingerprints the same request alike', () => {
    const a = requestFingerprint({ phone: '+79123456789', email: null, formId: 'f', message: ' Hi ' });
    expect(a).toBe(requestFingerprint({ phone: '+79123456789', email: null, formId: 'f', message: 'hi' }));
  });
  it('answers a number again from its memory the same, per region', () => {
    // A national number reads differently per region: the remembered answer must be the region's.
    expect(validPhone('(212) 736-5000', 'US')).toBe('+12127365000');
    expect(validPhone('(212) 736-5000', 'RU')).toBeNull();
    expect(validPhone('(212) 736-5000', 'US')).toBe('+12127365000');
    expect(validPhone('8 912 345-67-89', 'RU')).toBe(validPhone('8 912 345-67-89', 'RU'));
  });
});
