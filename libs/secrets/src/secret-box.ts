import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import * as forge from 'node-forge';
import { SecretDecryptError } from './errors';
import { Keyring } from './keyring';

const VERSION = 'sb1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = /^[A-Za-z0-9_-]*$/;

interface ParsedToken {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const bin = (b: Buffer): string => b.toString('binary');
const fromBin = (s: string): Buffer => Buffer.from(s, 'binary');
const b64url = (b: Buffer): string => b.toString('base64url');
// Omitted AAD and '' are the same context; AAD is hashed as its UTF-8 bytes.
const aadBytes = (aad: string | undefined): string => bin(Buffer.from(aad ?? '', 'utf8'));

function malformed(what: string): never {
  throw new SecretDecryptError('SECRET_MALFORMED', `Malformed secret token: ${what}.`);
}

function parse(token: string): ParsedToken {
  if (typeof token !== 'string') malformed('not a string');
  const parts = token.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION)
    malformed(`expected ${VERSION}.<keyId>.<iv>.<ciphertext>.<tag>`);
  const [, keyId, ...encoded] = parts;
  if (keyId === '' || keyId.length > 64 || !parts.every((p) => B64URL.test(p))) malformed('bad characters');
  const [iv, ciphertext, tag] = encoded.map((p) => Buffer.from(p, 'base64url'));
  if (iv.length !== IV_BYTES) malformed(`the IV must be ${IV_BYTES} bytes`);
  if (tag.length !== TAG_BYTES) malformed(`the tag must be ${TAG_BYTES} bytes`);
  return { keyId, iv, ciphertext, tag };
}

/**
 * Reversible encryption of secrets with AES-256-GCM (node-forge) under versioned master keys.
 * Token: `sb1.<keyId>.<base64url iv>.<base64url ciphertext>.<base64url tag>`. The AAD (e.g.
 * `peer:shop-a:signing-secret`) is not stored: the caller passes the same context to seal and open, so a
 * token copied to another row does not open.
 */
@Injectable()
export class SecretBox {
  readonly #keyring: Keyring;

  constructor(keyring: Keyring) {
    this.#keyring = keyring;
  }

  get primaryKeyId(): string {
    return this.#keyring.primaryId;
  }

  hasKey(keyId: string): boolean {
    return this.#keyring.has(keyId);
  }

  seal(plaintext: string | Uint8Array, aad?: string): string {
    const keyId = this.#keyring.primaryId;
    const iv = randomBytes(IV_BYTES);
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
    const cipher = forge.cipher.createCipher('AES-GCM', bin(this.#keyring.key(keyId)!));
    cipher.start({ iv: bin(iv), additionalData: aadBytes(aad), tagLength: TAG_BYTES * 8 });
    cipher.update(forge.util.createBuffer(bin(data)));
    cipher.finish();
    const ciphertext = fromBin(cipher.output.getBytes());
    const tag = fromBin(cipher.mode.tag.getBytes());
    return [VERSION, keyId, b64url(iv), b64url(ciphertext), b64url(tag)].join('.');
  }

  open(token: string, aad?: string): Buffer {
    const { keyId, iv, ciphertext, tag } = parse(token);
    const key = this.#keyring.key(keyId);
    if (!key) {
      throw new SecretDecryptError(
        'SECRET_KEY_MISSING',
        `Secret is encrypted under master key "${keyId}", which is not in the keyring; restore that key.`,
        [keyId],
      );
    }
    const decipher = forge.cipher.createDecipher('AES-GCM', bin(key));
    decipher.start({
      iv: bin(iv),
      additionalData: aadBytes(aad),
      tag: forge.util.createBuffer(bin(tag)),
      tagLength: TAG_BYTES * 8,
    });
    decipher.update(forge.util.createBuffer(bin(ciphertext)));
    if (!decipher.finish()) {
      throw new SecretDecryptError(
        'SECRET_TAMPERED',
        'Secret failed authentication (tampered, or wrong context).',
      );
    }
    return fromBin(decipher.output.getBytes());
  }

  openString(token: string, aad?: string): string {
    return this.open(token, aad).toString('utf8');
  }

  keyIdOf(token: string): string {
    return parse(token).keyId;
  }

  /** True when the token is not under the primary key. */
  needsRewrap(token: string): boolean {
    return this.keyIdOf(token) !== this.#keyring.primaryId;
  }

  /** The token under the primary key; the input itself when it already is (after checking it opens). */
  rewrap(token: string, aad?: string): string {
    const plaintext = this.open(token, aad);
    try {
      return this.needsRewrap(token) ? this.seal(plaintext, aad) : token;
    } finally {
      plaintext.fill(0);
    }
  }
}

export interface SealedRow {
  id: string | number;
  token: string;
  aad?: string;
}

/**
 * Re-encrypts under the primary key the rows that need it and returns only those (with the new token), for a
 * `rewrap` command to write back. A row that does not open fails the whole run, naming the row.
 */
export async function rewrapAll<T extends SealedRow>(
  rows: Iterable<T> | AsyncIterable<T>,
  box: SecretBox,
): Promise<T[]> {
  const changed: T[] = [];
  for await (const row of rows) {
    try {
      if (box.needsRewrap(row.token)) changed.push({ ...row, token: box.rewrap(row.token, row.aad) });
    } catch (err) {
      if (!(err instanceof SecretDecryptError)) throw err;
      throw new SecretDecryptError(err.code, `Row ${row.id}: ${err.message}`, err.keyIds);
    }
  }
  return changed;
}

/** Fails fast (at start) when stored tokens need master keys the keyring lacks; lists every missing key id. */
export function requireKeys(box: SecretBox, tokens: Iterable<string>): void {
  const missing = new Set<string>();
  for (const token of tokens) {
    const keyId = box.keyIdOf(token);
    if (!box.hasKey(keyId)) missing.add(keyId);
  }
  if (missing.size > 0) {
    const ids = [...missing].sort();
    throw new SecretDecryptError(
      'SECRET_KEY_MISSING',
      `Stored secrets need master key(s) not in the keyring: ${ids.join(', ')}.`,
      ids,
    );
  }
}
