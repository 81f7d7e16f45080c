import { createHash, createHmac, randomBytes, timingSafeEqual, type BinaryLike } from 'node:crypto';

export type Digest = 'sha1' | 'sha256' | 'sha512';

export const hmac = (algorithm: Digest, key: BinaryLike, data: BinaryLike): Buffer =>
  createHmac(algorithm, key).update(data).digest();

export const sha256Hex = (data: BinaryLike): string => createHash('sha256').update(data).digest('hex');

// Per-process key for the double-HMAC compare below; never leaves memory.
const compareKey = randomBytes(32);

/**
 * Constant-time equality for inputs of any length: both sides are reduced to fixed-length HMACs
 * first, so neither the content nor the length of the expected value leaks through timing.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const da = hmac('sha256', compareKey, a);
  const db = hmac('sha256', compareKey, b);
  return timingSafeEqual(da, db) && Buffer.byteLength(a) === Buffer.byteLength(b);
}

/** True if `candidate` equals any of `expected`; checks every entry (no early exit). */
export function safeEqualAny(candidate: string | Buffer, expected: readonly (string | Buffer)[]): boolean {
  let matched = false;
  for (const e of expected) matched = safeEqual(candidate, e) || matched;
  return matched;
}
