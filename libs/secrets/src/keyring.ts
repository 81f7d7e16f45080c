import { readFileSync } from 'node:fs';
import { SecretsConfigError } from './errors';

export interface MasterKey {
  id: string;
  key: Buffer;
}

export const KEY_BYTES = 32;
/** Key ids appear inside tokens, whose parts are separated by dots. */
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const MASTER_KEYS_ENV = 'SWITCHBOARD_MASTER_KEYS';
export const MASTER_KEYS_FILE_ENV = 'SWITCHBOARD_MASTER_KEYS_FILE';

/** Versioned AES-256 master keys: the primary key encrypts, every key decrypts. */
export class Keyring {
  // A private field, so neither util.inspect nor JSON.stringify of a keyring shows key material.
  readonly #keys = new Map<string, Buffer>();
  readonly primaryId: string;

  /** `primary` defaults to the LAST key of the list (the newest one appended). */
  constructor(keys: readonly MasterKey[], primary?: string) {
    if (keys.length === 0)
      throw new SecretsConfigError('The keyring is empty: at least one master key is required.');
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id))
        throw new SecretsConfigError(`Master key id ${JSON.stringify(id)} must match ${KEY_ID}.`);
      if (this.#keys.has(id)) throw new SecretsConfigError(`Duplicate master key id "${id}".`);
      if (key.length !== KEY_BYTES) {
        throw new SecretsConfigError(`Master key "${id}" must be ${KEY_BYTES} bytes, got ${key.length}.`);
      }
      this.#keys.set(id, Buffer.from(key));
    }
    this.primaryId = primary ?? keys[keys.length - 1].id;
    if (!this.#keys.has(this.primaryId)) {
      throw new SecretsConfigError(`Primary master key "${this.primaryId}" is not in the keyring.`);
    }
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  /** @internal for SecretBox: the raw key, or undefined. */
  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }
}

/**
 * Parses `"k2:<base64>,k1:<base64>"`; the FIRST entry is primary. Entries may also be separated by newlines,
 * and `#` starts a comment (key files).
 */
export function parseKeyring(spec: string): Keyring {
  const entries = spec
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0)
    throw new SecretsConfigError('No master keys given: expected "<id>:<base64 key>,...".');
  const keys = entries.map((entry, i): MasterKey => {
    const colon = entry.indexOf(':');
    // The entry itself is never quoted: without a well-formed id, it may be nothing but key material.
    if (colon < 1)
      throw new SecretsConfigError(`Master key entry ${i + 1} is not of the form "<id>:<base64 key>".`);
    const id = entry.slice(0, colon).trim();
    const b64 = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id))
      throw new SecretsConfigError(`Master key entry ${i + 1}: the id must match ${KEY_ID}.`);
    if (!BASE64.test(b64)) throw new SecretsConfigError(`Master key "${id}" is not valid base64.`);
    return { id, key: Buffer.from(b64, 'base64') };
  });
  return new Keyring(keys, keys[0].id);
}

/** Reads the keyring from `file` if given, else from the file named by or the value of the environment. */
export function loadKeyring(
  source: { env?: Record<string, string | undefined>; file?: string } = {},
): Keyring {
  const env = source.env ?? process.env;
  const file = source.file ?? env[MASTER_KEYS_FILE_ENV];
  const inline = env[MASTER_KEYS_ENV];
  if (file && inline && !source.file) {
    throw new SecretsConfigError(`Set only one of ${MASTER_KEYS_ENV} and ${MASTER_KEYS_FILE_ENV}.`);
  }
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SecretsConfigError(`Cannot read master key file ${file}: ${(err as Error).message}`);
    }
    return parseKeyring(text);
  }
  if (inline) return parseKeyring(inline);
  throw new SecretsConfigError(
    `No master keys configured: set ${MASTER_KEYS_ENV} or ${MASTER_KEYS_FILE_ENV}.`,
  );
}
