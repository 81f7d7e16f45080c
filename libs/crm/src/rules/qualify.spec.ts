import { qualify, requestFingerprint, validEmail, validPhone } from './qualify';

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
