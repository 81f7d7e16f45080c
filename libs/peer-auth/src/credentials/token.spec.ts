import * as zlib from 'node:zlib';
import {
  CHECKSUM_LENGTH,
  TOKEN_LENGTH,
  TOKEN_PATTERN,
  crc32,
  issueToken,
  looksLikeToken,
  parseToken,
  randomBase62,
} from './token';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('token', () => {
  it('has the documented shape', () => {
    const { credentialId, secret, token } = issueToken();
    expect(token).toHaveLength(55);
    expect(TOKEN_LENGTH).toBe(55);
    expect(credentialId).toMatch(/^[0-9A-Za-z]{12}$/);
    expect(secret).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(token.startsWith(`sbp_${credentialId}_${secret}`)).toBe(true);
    expect(TOKEN_PATTERN.test(token)).toBe(true);
    expect(looksLikeToken(token)).toBe(true);
  });

  it('round-trips 1000 unique tokens', () => {
    const tokens = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const issued = issueToken();
      expect(parseToken(issued.token)).toEqual({ credentialId: issued.credentialId, secret: issued.secret });
      tokens.add(issued.token);
      ids.add(issued.credentialId);
    }
    expect(tokens.size).toBe(1000);
    expect(ids.size).toBe(1000);
  });

  it('crc32 matches the standard check value (and zlib.crc32 where available)', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
    // Without zlib.crc32 (Node < 20.15) the comparison is with itself: the check value above still holds.
    const reference = (zlib as { crc32?: (data: string) => number }).crc32 ?? crc32;
    const tokens = Array.from({ length: 50 }, () => issueToken().token);
    expect(tokens.map((s) => crc32(s))).toEqual(tokens.map((s) => reference(s)));
  });

  it('catches every single-character substitution', () => {
    const { token } = issueToken();
    let tried = 0;
    for (let pos = 0; pos < token.length; pos++) {
      for (const ch of BASE62 + '_-') {
        if (ch === token[pos]) continue;
        const mutated = token.slice(0, pos) + ch + token.slice(pos + 1);
        tried++;
        expect(parseToken(mutated)).toBeNull();
      }
    }
    expect(tried).toBe(55 * 63);
  });

  it('catches adjacent transpositions', () => {
    const { token } = issueToken();
    for (let pos = 0; pos < token.length - 1; pos++) {
      if (token[pos] === token[pos + 1]) continue;
      const swapped = token.slice(0, pos) + token[pos + 1] + token[pos] + token.slice(pos + 2);
      expect(parseToken(swapped)).toBeNull();
    }
  });

  it('rejects truncated, extended, wrong-prefix and malformed input', () => {
    const { token, credentialId, secret } = issueToken();
    for (let n = 0; n < token.length; n++) expect(parseToken(token.slice(0, n))).toBeNull();
    expect(parseToken(token + 'a')).toBeNull();
    expect(parseToken(' ' + token)).toBeNull();
    expect(parseToken(token + '\n')).toBeNull();
    expect(parseToken('sbx_' + token.slice(4))).toBeNull();
    expect(parseToken('SBP_' + token.slice(4))).toBeNull();
    expect(parseToken('ghp_' + token.slice(4))).toBeNull();
    expect(parseToken(token.slice(CHECKSUM_LENGTH) + token.slice(-CHECKSUM_LENGTH))).toBeNull();
    // right length, missing checksum
    expect(parseToken(`sbp_${credentialId}_${secret}000000`)).toBeNull();
    expect(parseToken(undefined as unknown as string)).toBeNull();
    expect(parseToken(42 as unknown as string)).toBeNull();
    expect(parseToken('')).toBeNull();
  });

  it('looksLikeToken checks shape only; TOKEN_PATTERN finds tokens in text', () => {
    const { token } = issueToken();
    const typo = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
    expect(parseToken(typo)).toBeNull();
    expect(looksLikeToken(typo)).toBe(true);
    expect(looksLikeToken(token.slice(1))).toBe(false);
    expect(looksLikeToken(`x ${token}`)).toBe(false);
    expect(TOKEN_PATTERN.exec(`Authorization: Bearer ${token}\n`)?.[0]).toBe(token);
    expect(TOKEN_PATTERN.test('sbp_short_token')).toBe(false);
  });

  it('secrets are roughly uniform over base62 (chi-square over 10k secrets)', () => {
    const counts = new Map<string, number>();
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      for (const ch of issueToken().secret) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const total = n * 32;
    const expected = total / 62;
    let chi2 = 0;
    for (const ch of BASE62) chi2 += ((counts.get(ch) ?? 0) - expected) ** 2 / expected;
    // 61 degrees of freedom: mean 61, p(chi2 > 120) ~ 1e-5. A modulo-256 bias would give ~2000+.
    expect(chi2).toBeLessThan(120);
  });

  it('randomBase62 returns exactly the requested length', () => {
    for (const len of [0, 1, 7, 32, 100])
      expect(randomBase62(len)).toMatch(new RegExp(`^[0-9A-Za-z]{${len}}$`));
  });
});
