import { normalizeEmail, normalizePhone } from './normalize';

describe('normalizePhone', () => {
  it.each([
    ['8 (912) 345-67-89', 'RU', '+79123456789'],
    ['+7 912 3456789', 'RU', '+79123456789'],
    ['89123456789', 'RU', '+79123456789'],
    ['9123456789', 'RU', '+79123456789'],
    ['+1-202-555-0143', 'RU', '+12025550143'],
    ['(202) 555-0143', 'US', '+12025550143'],
    ['00 44 20 7946 0958', 'RU', '+442079460958'],
    ['  +7 (912) 345 67 89  ', 'RU', '+79123456789'],
  ])('%s in %s -> %s', (raw, region, expected) => {
    expect(normalizePhone(raw, region)).toBe(expected);
  });

  it('gives the same key for every spelling of one number', () => {
    const spellings = ['8 (912) 345-67-89', '+7 912 3456789', '89123456789', '+79123456789'];
    expect(new Set(spellings.map((s) => normalizePhone(s, 'RU')))).toEqual(new Set(['+79123456789']));
  });

  it.each(['garbage', '', '12', 'call me maybe', '+', '123456789012345678901', '8'.repeat(50)])(
    'rejects %p',
    (raw) => {
      expect(normalizePhone(raw, 'RU')).toBeNull();
    },
  );

  it('treats null and undefined as no phone', () => {
    expect(normalizePhone(null, 'RU')).toBeNull();
    expect(normalizePhone(undefined, 'RU')).toBeNull();
  });
});

describe('normalizeEmail', () => {
  it('lower-cases and trims', () => {
    expect(normalizeEmail('  Anna.Petrova@Example.COM ')).toBe('anna.petrova@example.com');
  });
  it('rejects non-emails', () => {
    expect(normalizeEmail('not an email')).toBeNull();
    expect(normalizeEmail('')).toBeNull();
    expect(normalizeEmail(null)).toBeNull();
  });
});
