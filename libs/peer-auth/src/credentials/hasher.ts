import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const MIN_PEPPER_BYTES = 32;
export const PEPPER_ENV = 'SWITCHBOARD_PEPPER';
export const PEPPER_FILE_ENV = 'SWITCHBOARD_PEPPER_FILE';

const STORED_HASH = /^[0-9a-f]{64}$/;

/**
 * One-way keyed hash for Switchboard-issued secrets: hex HMAC-SHA256(pepper, secret).
 *
 * The secrets carry ~190 bits of entropy, so a fast keyed hash is the right tool (no argon2/bcrypt per
 * request; those are for human-chosen passwords). The pepper lives in config or a secret file, never
 * in the DB, so a DB dump alone does not allow offline checking of guesses.
 *
 * The pepper is kept in a KeyObject in a private field, so it does not show up in `util.inspect`,
 * `JSON.stringify` or error reports.
 */
export class CredentialHasher {
  readonly #key: KeyObject;
  /** Hash of a random secret under this pepper; target for `dummyVerify`. */
  readonly #dummyHash: Buffer;

  constructor(pepper: Buffer) {
    if (!Buffer.isBuffer(pepper) || pepper.length < MIN_PEPPER_BYTES) {
      throw new Error(`CredentialHasher: pepper must be at least ${MIN_PEPPER_BYTES} bytes`);
    }
    this.#key = createSecretKey(Buffer.from(pepper));
    this.#dummyHash = this.#mac(randomBytes(32).toString('hex'));
  }

  /** Hex HMAC-SHA256(pepper, secret); this is what gets stored. */
  hash(secret: string): string {
    return this.#mac(secret).toString('hex');
  }

  /** Constant-time check of `secret` against a stored hex hash; false for a malformed stored value. */
  verify(secret: string, storedHex: string): boolean {
    const actual = this.#mac(secret);
    const wellFormed = typeof storedHex === 'string' && STORED_HASH.test(storedHex);
    const expected = wellFormed ? Buffer.from(storedHex, 'hex') : this.#dummyHash;
    return timingSafeEqual(actual, expected) && wellFormed;
  }

  /**
   * Same work as `verify` (one HMAC + one constant-time compare), always false. Call it when the
   * credential id is unknown, so "unknown id" and "known id, wrong secret" cost the same.
   */
  dummyVerify(secret = ''): false {
    const actual = this.#mac(secret);
    timingSafeEqual(actual, this.#dummyHash);
    return false;
  }

  toJSON(): string {
    return '[CredentialHasher]';
  }

  #mac(secret: string): Buffer {
    return createHmac('sha256', this.#key).update(String(secret), 'utf8').digest();
  }
}

/**
 * Reads the pepper from `SWITCHBOARD_PEPPER` (base64) or from the file named by
 * `SWITCHBOARD_PEPPER_FILE` (containing base64; surrounding whitespace ignored). Exactly one must be
 * set and decode to at least 32 bytes. Errors name the variable but never echo its value.
 */
export function loadPepper({ env = process.env }: { env?: NodeJS.ProcessEnv } = {}): Buffer {
  const inline = env[PEPPER_ENV];
  const file = env[PEPPER_FILE_ENV];
  const hasInline = inline !== undefined && inline !== '';
  const hasFile = file !== undefined && file !== '';

  if (hasInline && hasFile) {
    throw new Error(`Set only one of ${PEPPER_ENV} and ${PEPPER_FILE_ENV}`);
  }
  if (!hasInline && !hasFile) {
    throw new Error(
      `Peer credential pepper missing: set ${PEPPER_ENV} (base64, >= ${MIN_PEPPER_BYTES} bytes) ` +
        `or ${PEPPER_FILE_ENV} (path to a file containing it)`,
    );
  }

  let source: string;
  let raw: string;
  if (hasInline) {
    source = PEPPER_ENV;
    raw = inline;
  } else {
    source = `${PEPPER_FILE_ENV} (${file})`;
    try {
      raw = readFileSync(file as string, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      throw new Error(`${source} could not be read: ${code}`);
    }
  }

  const text = raw.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw new Error(`${source} is not valid base64`);
  }
  const pepper = Buffer.from(text, 'base64');
  if (pepper.length < MIN_PEPPER_BYTES) {
    throw new Error(`${source} must decode to at least ${MIN_PEPPER_BYTES} bytes (got ${pepper.length})`);
  }
  return pepper;
}
