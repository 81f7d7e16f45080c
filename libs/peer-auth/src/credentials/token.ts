import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * Peer credentials issued by Switchboard, GitHub-token style:
 *
 *   sbp_<credentialId>_<secret><checksum>
 *
 * - `sbp_`          fixed prefix, so leaked tokens are easy to grep for / secret-scan.
 * - credentialId    12 base62 chars (~71 bits), public; used to look up the stored hash.
 * - secret          32 base62 chars (~190.5 bits), from `crypto.randomBytes` with rejection sampling.
 * - checksum        CRC32 of `sbp_<credentialId>_<secret>`, as 6 base62 chars (zero-padded): a typo
 *                   or a truncated paste is rejected by `parseToken` before any DB lookup.
 *
 * The whole token is shown to the peer once, at issue time; only `hash(secret)` is stored.
 *
 * How a peer presents it (the caller extracts the token, then calls `parseToken`):
 * - `Authorization: Bearer <token>`;
 * - HTTP Basic `<peerId>:<token>` — the password is the WHOLE token (not just the secret part); the
 *   username must equal the peer id the credential belongs to, which the caller checks after lookup
 *   (a mismatch is an ordinary authentication failure);
 * - `login` / `password` fields — same rule as Basic: login = peer id, password = whole token.
 *
 * Never log a token, a secret, or anything derived from them except the credentialId.
 */

export const TOKEN_PREFIX = 'sbp_';
export const CREDENTIAL_ID_LENGTH = 12;
export const SECRET_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;
export const TOKEN_LENGTH = TOKEN_PREFIX.length + CREDENTIAL_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * For secret scanners / log redaction: matches a token-shaped string anywhere in a text (checksum not
 * verified — use `parseToken` to tell a real token from a lookalike). Not global, so it carries no
 * `lastIndex` state; scanners wanting every match can build `new RegExp(TOKEN_PATTERN.source, 'g')`.
 */
export const TOKEN_PATTERN = /\bsbp_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}\b/;

const TOKEN_SHAPE = /^sbp_([0-9A-Za-z]{12})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

export interface ParsedToken {
  credentialId: string;
  secret: string;
}

export interface IssuedToken extends ParsedToken {
  /** The full token; shown to the peer once, never stored or logged. */
  token: string;
}

/** Uniform random base62 string: bytes >= 248 (= 4 * 62) are rejected, so `b % 62` has no bias. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length + 8)) {
      if (b >= 248) continue;
      out += BASE62[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** CRC-32 (IEEE 802.3, as zlib/PNG) of the UTF-8 bytes of `input`: Node's own zlib.crc32 (Node >= 22.2). */
export function crc32(input: string | Buffer): number {
  return zlibCrc32(input);
}

/** 6 base62 chars (62^6 > 2^32), most significant first, zero-padded. */
function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function issueToken(): IssuedToken {
  const credentialId = randomBase62(CREDENTIAL_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${TOKEN_PREFIX}${credentialId}_${secret}`;
  return { credentialId, secret, token: body + checksum(body) };
}

/**
 * Splits a presented token into its lookup id and secret, or returns null if the prefix, length,
 * charset or checksum is wrong. No trimming: the caller passes exactly what was presented.
 */
export function parseToken(token: string): ParsedToken | null {
  if (typeof token !== 'string' || token.length !== TOKEN_LENGTH) return null;
  const m = TOKEN_SHAPE.exec(token);
  if (!m) return null;
  const [, credentialId, secret, sum] = m;
  if (checksum(`${TOKEN_PREFIX}${credentialId}_${secret}`) !== sum) return null;
  return { credentialId, secret };
}

/**
 * True if the whole string has the token's shape (prefix, lengths, charset). The checksum is NOT
 * checked: a mistyped token is still a secret and should still be redacted.
 */
export function looksLikeToken(s: string): boolean {
  return typeof s === 'string' && TOKEN_SHAPE.test(s);
}
