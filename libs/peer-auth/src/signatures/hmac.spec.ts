import { safeEqual, safeEqualAny, sha256Hex } from './hmac';
import { header } from './types';

describe('safeEqual', () => {
  it('is true only for identical content', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual(Buffer.from('abc'), 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
  });

  it('handles different lengths and empty values without throwing', () => {
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('safeEqualAny matches any entry', () => {
    expect(safeEqualAny('b', ['a', 'b', 'c'])).toBe(true);
    expect(safeEqualAny('d', ['a', 'b'])).toBe(false);
    expect(safeEqualAny('a', [])).toBe(false);
  });

  it('sha256Hex is the lowercase hex digest', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('header', () => {
  it('finds names case-insensitively and joins repeated values', () => {
    const req = { headers: { 'X-Mixed-Case': 'v', dup: ['a', 'b'] } };
    expect(header(req, 'x-mixed-case')).toBe('v');
    expect(header(req, 'DUP')).toBe('a, b');
    expect(header(req, 'absent')).toBeUndefined();
  });
});
