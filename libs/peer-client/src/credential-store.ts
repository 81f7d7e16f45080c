import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseToken } from '@switchboard/peer-auth';
import {
  Keyring,
  parseKeyring,
  SecretBox,
  SecretDecryptError,
  SecretsConfigError,
} from '@switchboard/secrets';

export const CLIENT_KEYS_ENV = 'SWITCHBOARD_CLIENT_KEYS';
export const CLIENT_KEYS_FILE_ENV = 'SWITCHBOARD_CLIENT_KEYS_FILE';
export const CREDENTIAL_FILE_VERSION = 1;

const PEER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type CredentialStoreErrorCode =
  | 'STORE_NOT_FOUND'
  | 'STORE_EXISTS'
  | 'STORE_MALFORMED'
  | 'STORE_KEY_MISSING'
  | 'STORE_DECRYPT_FAILED'
  | 'STORE_INVALID'
  | 'STORE_LOCKED'
  | 'STORE_IO'
  | 'CLIENT_KEYS_INVALID';

/** Messages name files, fields, key ids and credential ids only; never a token or key. */
export class CredentialStoreError extends Error {
  constructor(
    readonly code: CredentialStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialStoreError';
  }
}

/** The decrypted content of a credential file. Holds secrets: never log it. */
export interface PeerCredentials {
  /** Base URL without a trailing slash, e.g. `https://gateway.example.com`. */
  gatewayUrl: string;
  peerId: string;
  credentialId: string;
  /** ISO-8601; null while unknown (a file created without --expires-at learns it at the first rotation). */
  expiresAt: string | null;
  token: string;
  /** The credential replaced by the last rotation, usable until `retiresAt` (overlap window). */
  previous: { credentialId: string; token: string; retiresAt: string } | null;
  /** Standard-Webhooks signing secret (`whsec_<base64>` or raw); null when requests are not signed. */
  signingSecret: string | null;
}

/** The file on disk: metadata in clear, every secret sealed by SecretBox (`sb1.<keyId>.…`). */
export interface CredentialFile {
  version: typeof CREDENTIAL_FILE_VERSION;
  gatewayUrl: string;
  peerId: string;
  credentialId: string;
  expiresAt: string | null;
  token: string;
  previous: { credentialId: string; token: string; retiresAt: string } | null;
  signingSecret: string | null;
}

/** The file-system calls the store makes; replaceable to simulate crashes in tests. */
export interface StoreFileSystem {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  unlink: typeof fsp.unlink;
  readFile: typeof fsp.readFile;
  stat: typeof fsp.stat;
}

export interface CredentialStoreOptions {
  fs?: Partial<StoreFileSystem>;
  /** A lock file older than this is assumed left by a crashed process. Default 5 min. */
  lockStaleMs?: number;
  /** How long `withLock` waits for another process. Default 60 s. */
  lockTimeoutMs?: number;
}

/**
 * Where a sealed value belongs. The gateway URL is bound too: editing it in the file (to send the token
 * elsewhere) makes the file undecryptable instead of leaking the token. Unambiguous because peer ids have
 * no ':', credential ids are base62, and the URL comes last.
 */
function aad(c: { peerId: string; gatewayUrl: string }, field: string, credentialId?: string): string {
  const id = credentialId === undefined ? '' : `:${credentialId}`;
  return `peer-client:${c.peerId}:${field}${id}:${c.gatewayUrl}`;
}

const isIsoDate = (s: unknown): s is string => typeof s === 'string' && !Number.isNaN(Date.parse(s));
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Normalizes and checks a gateway base URL: http(s), no credentials, query or fragment; no trailing slash. */
export function normalizeGatewayUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new CredentialStoreError('STORE_INVALID', `Gateway URL ${JSON.stringify(input)} is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CredentialStoreError('STORE_INVALID', 'The gateway URL must be http:// or https://.');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new CredentialStoreError(
      'STORE_INVALID',
      'The gateway URL must not contain credentials, a query or a fragment.',
    );
  }
  return url.toString().replace(/\/+$/, '');
}

export function validatePeerId(peerId: string): string {
  if (!PEER_ID.test(peerId)) {
    throw new CredentialStoreError('STORE_INVALID', `Peer id must match ${PEER_ID}.`);
  }
  return peerId;
}

/** Throws unless `token` is a well-formed Switchboard token of `credentialId`; never echoes the token. */
function checkToken(token: string, credentialId: string, what: string): void {
  const parsed = parseToken(token);
  if (!parsed)
    throw new CredentialStoreError('STORE_INVALID', `The ${what} is not a valid Switchboard token.`);
  if (parsed.credentialId !== credentialId) {
    throw new CredentialStoreError(
      'STORE_INVALID',
      `The ${what} belongs to credential ${parsed.credentialId}, not ${credentialId}.`,
    );
  }
}

function validateCredentials(c: PeerCredentials): void {
  validatePeerId(c.peerId);
  if (normalizeGatewayUrl(c.gatewayUrl) !== c.gatewayUrl) {
    throw new CredentialStoreError('STORE_INVALID', 'The gateway URL is not normalized (trailing slash?).');
  }
  checkToken(c.token, c.credentialId, 'token');
  if (c.expiresAt !== null && !isIsoDate(c.expiresAt)) {
    throw new CredentialStoreError('STORE_INVALID', 'expiresAt must be an ISO-8601 date or null.');
  }
  if (c.previous) {
    checkToken(c.previous.token, c.previous.credentialId, 'previous token');
    if (!isIsoDate(c.previous.retiresAt)) {
      throw new CredentialStoreError('STORE_INVALID', 'previous.retiresAt must be an ISO-8601 date.');
    }
  }
  if (c.signingSecret !== null && (typeof c.signingSecret !== 'string' || c.signingSecret === '')) {
    throw new CredentialStoreError('STORE_INVALID', 'The signing secret must be a non-empty string or null.');
  }
}

function parseFile(text: string, path: string): CredentialFile {
  const bad = (what: string): never => {
    throw new CredentialStoreError('STORE_MALFORMED', `Credential file ${path} is malformed: ${what}.`);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (!isRecord(data)) return bad('not a JSON object');
  if (data.version !== CREDENTIAL_FILE_VERSION) return bad(`unsupported version ${String(data.version)}`);
  for (const field of ['gatewayUrl', 'peerId', 'credentialId', 'token'] as const) {
    if (typeof data[field] !== 'string' || data[field] === '') bad(`"${field}" must be a non-empty string`);
  }
  if (data.expiresAt !== null && !isIsoDate(data.expiresAt))
    bad('"expiresAt" must be an ISO-8601 date or null');
  if (data.signingSecret !== null && typeof data.signingSecret !== 'string') bad('"signingSecret"');
  const prev = data.previous;
  if (prev !== null) {
    if (!isRecord(prev)) return bad('"previous" must be an object or null');
    if (
      typeof prev.credentialId !== 'string' ||
      typeof prev.token !== 'string' ||
      !isIsoDate(prev.retiresAt)
    ) {
      bad('"previous" needs credentialId, token and an ISO-8601 retiresAt');
    }
  }
  return data as unknown as CredentialFile;
}

/** Fresh client key line `<id>:<base64 of 32 random bytes>`, for SWITCHBOARD_CLIENT_KEYS or its key file. */
export function generateClientKey(
  id = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`,
): string {
  const line = `${id}:${randomBytes(32).toString('base64')}`;
  parseKeyring(line); // rejects a bad id with the keyring's own message
  return line;
}

/**
 * The client keyring, from the file named by SWITCHBOARD_CLIENT_KEYS_FILE or from SWITCHBOARD_CLIENT_KEYS:
 * `"<id>:<base64 32 bytes>"`, comma- or newline-separated; the FIRST key encrypts, all decrypt.
 */
export function loadClientKeyring(env: Record<string, string | undefined> = process.env): Keyring {
  const file = env[CLIENT_KEYS_FILE_ENV];
  const inline = env[CLIENT_KEYS_ENV];
  const invalid = (message: string): never => {
    throw new CredentialStoreError('CLIENT_KEYS_INVALID', message);
  };
  if (file && inline) return invalid(`Set only one of ${CLIENT_KEYS_ENV} and ${CLIENT_KEYS_FILE_ENV}.`);
  let spec: string;
  let source: string;
  if (file) {
    source = `${CLIENT_KEYS_FILE_ENV} (${file})`;
    try {
      spec = readFileSync(file, 'utf8');
    } catch (err) {
      return invalid(`Cannot read client key file ${file}: ${(err as Error).message}`);
    }
  } else if (inline) {
    source = CLIENT_KEYS_ENV;
    spec = inline;
  } else {
    return invalid(
      `No client key: set ${CLIENT_KEYS_ENV} or ${CLIENT_KEYS_FILE_ENV} (create one with "peer keygen").`,
    );
  }
  try {
    return parseKeyring(spec);
  } catch (err) {
    if (err instanceof SecretsConfigError) return invalid(`${source}: ${err.message}`);
    throw err;
  }
}

const NODE_FS: StoreFileSystem = {
  open: fsp.open,
  rename: fsp.rename,
  unlink: fsp.unlink,
  readFile: fsp.readFile,
  stat: fsp.stat,
};

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/**
 * Replaces `target` with `data` so that a crash at any point leaves either the old or the new complete file:
 * temp file in the same directory (same file system, so rename is atomic), fsync, rename, fsync the directory
 * (makes the rename itself durable).
 */
export async function writeFileAtomic(
  target: string,
  data: string,
  fs: Pick<StoreFileSystem, 'open' | 'rename' | 'unlink'> = NODE_FS,
): Promise<void> {
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  try {
    const dirHandle = await fs.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (err) {
    // Some platforms (Windows) cannot fsync a directory; the rename has still happened.
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'EACCES'].includes(errno(err) ?? '')) throw err;
  }
}

/** An encrypted credential file for one peer. */
export class CredentialStore {
  readonly #box: SecretBox;
  readonly #fs: StoreFileSystem;
  readonly #lockStaleMs: number;
  readonly #lockTimeoutMs: number;

  constructor(
    readonly path: string,
    keyring: Keyring,
    options: CredentialStoreOptions = {},
  ) {
    this.#box = new SecretBox(keyring);
    this.#fs = { ...NODE_FS, ...options.fs };
    this.#lockStaleMs = options.lockStaleMs ?? 300_000;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  }

  /** Store whose key comes from SWITCHBOARD_CLIENT_KEYS(_FILE). */
  static fromEnv(
    path: string,
    env: Record<string, string | undefined> = process.env,
    options?: CredentialStoreOptions,
  ): CredentialStore {
    return new CredentialStore(path, loadClientKeyring(env), options);
  }

  async exists(): Promise<boolean> {
    try {
      await this.#fs.stat(this.path);
      return true;
    } catch (err) {
      if (errno(err) === 'ENOENT') return false;
      throw err;
    }
  }

  async read(): Promise<PeerCredentials> {
    let text: string;
    try {
      text = await this.#fs.readFile(this.path, 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT') {
        throw new CredentialStoreError(
          'STORE_NOT_FOUND',
          `No credential file at ${this.path}; create it with "peer init".`,
        );
      }
      throw new CredentialStoreError('STORE_IO', `Cannot read ${this.path}: ${(err as Error).message}`);
    }
    const file = parseFile(text, this.path);
    const ctx = { peerId: file.peerId, gatewayUrl: file.gatewayUrl };
    const creds: PeerCredentials = {
      gatewayUrl: file.gatewayUrl,
      peerId: file.peerId,
      credentialId: file.credentialId,
      expiresAt: file.expiresAt,
      token: this.#open(file.token, aad(ctx, 'token', file.credentialId), 'token'),
      previous: file.previous && {
        credentialId: file.previous.credentialId,
        token: this.#open(
          file.previous.token,
          aad(ctx, 'previous-token', file.previous.credentialId),
          'previous.token',
        ),
        retiresAt: file.previous.retiresAt,
      },
      signingSecret:
        file.signingSecret === null
          ? null
          : this.#open(file.signingSecret, aad(ctx, 'signing-secret'), 'signingSecret'),
    };
    try {
      validateCredentials(creds);
    } catch (err) {
      if (!(err instanceof CredentialStoreError)) throw err;
      throw new CredentialStoreError('STORE_MALFORMED', `Credential file ${this.path}: ${err.message}`);
    }
    return creds;
  }

  /** Seals every secret afresh (under the primary client key) and replaces the file atomically. */
  async write(creds: PeerCredentials): Promise<void> {
    validateCredentials(creds);
    const ctx = { peerId: creds.peerId, gatewayUrl: creds.gatewayUrl };
    const file: CredentialFile = {
      version: CREDENTIAL_FILE_VERSION,
      gatewayUrl: creds.gatewayUrl,
      peerId: creds.peerId,
      credentialId: creds.credentialId,
      expiresAt: creds.expiresAt,
      token: this.#box.seal(creds.token, aad(ctx, 'token', creds.credentialId)),
      previous: creds.previous && {
        credentialId: creds.previous.credentialId,
        token: this.#box.seal(creds.previous.token, aad(ctx, 'previous-token', creds.previous.credentialId)),
        retiresAt: creds.previous.retiresAt,
      },
      signingSecret:
        creds.signingSecret === null ? null : this.#box.seal(creds.signingSecret, aad(ctx, 'signing-secret')),
    };
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`, this.#fs);
    } catch (err) {
      throw new CredentialStoreError('STORE_IO', `Cannot write ${this.path}: ${(err as Error).message}`);
    }
  }

  /** Writes a new file; refuses to replace an existing one unless `overwrite`. */
  async create(creds: PeerCredentials, { overwrite = false } = {}): Promise<void> {
    await this.withLock(async () => {
      if (!overwrite && (await this.exists())) {
        throw new CredentialStoreError(
          'STORE_EXISTS',
          `${this.path} already exists; pass --force to replace it (its credential is then lost).`,
        );
      }
      await this.write(creds);
    });
  }

  /**
   * Runs `fn` holding `<file>.lock`, so processes sharing the file do not rotate concurrently (two rotations
   * would leave one of them holding a credential the gateway retires a day later).
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + this.#lockTimeoutMs;
    for (;;) {
      try {
        const handle = await this.#fs.open(lockPath, 'wx', 0o600);
        try {
          await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
        } finally {
          await handle.close();
        }
        break;
      } catch (err) {
        if (errno(err) !== 'EEXIST') {
          throw new CredentialStoreError('STORE_IO', `Cannot create ${lockPath}: ${(err as Error).message}`);
        }
      }
      const stale = await this.#fs.stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs > this.#lockStaleMs,
        () => false, // gone meanwhile: just try again
      );
      if (stale) {
        await this.#fs.unlink(lockPath).catch(() => undefined);
      } else if (Date.now() >= deadline) {
        throw new CredentialStoreError(
          'STORE_LOCKED',
          `${lockPath} is held by another process; remove it if no peer client is running.`,
        );
      } else {
        await delay(25 + Math.floor(Math.random() * 50));
      }
    }
    try {
      return await fn();
    } finally {
      await this.#fs.unlink(lockPath).catch(() => undefined);
    }
  }

  #open(sealed: string, context: string, field: string): string {
    try {
      return this.#box.openString(sealed, context);
    } catch (err) {
      if (!(err instanceof SecretDecryptError)) throw err;
      switch (err.code) {
        case 'SECRET_KEY_MISSING':
          throw new CredentialStoreError(
            'STORE_KEY_MISSING',
            `${this.path}: "${field}" is encrypted under client key "${err.keyIds.join(', ')}", ` +
              `which is not in ${CLIENT_KEYS_ENV}/${CLIENT_KEYS_FILE_ENV}.`,
          );
        case 'SECRET_TAMPERED':
          throw new CredentialStoreError(
            'STORE_DECRYPT_FAILED',
            `${this.path}: cannot decrypt "${field}": wrong client key, or the file was modified.`,
          );
        default:
          throw new CredentialStoreError(
            'STORE_MALFORMED',
            `${this.path}: "${field}" is not a sealed value.`,
          );
      }
    }
  }
}
