import { commonPasswords, COMMON_PASSWORD_COUNT } from './common-passwords';
import { checkPassword, identityParts } from './password-policy';

describe('password policy', () => {
  const who = { name: 'Maria Ivanova', email: 'm.ivanova@example.com' };
  const common = new Set(['qwertyuiop123', 'correcthorse']);

  it('accepts a long password unrelated to the operator', () => {
    expect(checkPassword('violet-anchor-drum-44', who, common)).toBeNull();
  });

  it('refuses fewer than 12 characters, counting code points', () => {
    expect(checkPassword('short-pass1', who, common)?.code).toBe('PASSWORD_TOO_SHORT');
    expect(checkPassword('😀😀😀😀😀😀😀😀😀😀😀', who, common)?.code).toBe('PASSWORD_TOO_SHORT'); // 11 emoji, 22 UTF-16 units
    expect(checkPassword('😀😀😀😀😀😀😀😀😀😀😀😀', who, common)).toBeNull();
  });

  it('refuses a listed password whatever its case', () => {
    expect(checkPassword('QwertyUIOP123', who, common)?.code).toBe('PASSWORD_COMMON');
  });

  it("refuses the operator's name parts, email and email local part", () => {
    for (const p of [
      'ivanova-rocks-2024',
      'xxMARIAxx-long-one',
      'm.ivanova@example.com!',
      'i-am-m.ivanova-ok',
    ])
      expect([p, checkPassword(p, who, common)?.code]).toEqual([p, 'PASSWORD_CONTAINS_IDENTITY']);
  });

  it('ignores identity fragments shorter than 3 characters', () => {
    expect(identityParts('Al B', 'al@x.io')).toEqual(['al@x.io']);
  });

  it('ships the 100,000 most common passwords', () => {
    const list = commonPasswords();
    expect(list.size).toBeGreaterThan(COMMON_PASSWORD_COUNT * 0.95); // lower-casing merges a few
    expect(list.size).toBeLessThanOrEqual(COMMON_PASSWORD_COUNT);
    for (const p of ['123456', 'password', '1qaz2wsx3edc', 'q1w2e3r4t5y6']) expect(list.has(p)).toBe(true);
    expect(list.has('violet-anchor-drum-44')).toBe(false);
  });
});
