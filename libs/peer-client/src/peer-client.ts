import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { parseToken, signStandardWebhook, TOKEN_PATTERN } from '@switchboard/peer-auth';
import type { Keyring } from '@switchboard/secrets';
import {
  CredentialStore,
  loadClientKeyring,
  type CredentialStoreOptions,
  type PeerCredentials,
} from './credential-store';

const DAY_MS = 86_400_000;
const USER_AGENT = 'switchboard-peer-client/1';
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,200}$/;
const ROTATE_PATH = '/v1/credentials/rotate';
const CREDENTIAL_REJECTED = new Set(['AUTH_MISSING', 'AUTH_INVALID', 'AUTH_EXPIRED', 'AUTH_REVOKED']);
const TOKEN_ANYWHERE = new RegExp(TOKEN_PATTERN.source, 'g');

/** Replaces anything token-shaped, so text from the network or the OS cannot carry a token into a message. */
export const redactTokens = (text: string): string => text.replace(TOKEN_ANYWHERE, 'sbp_[redacted]');

export interface PeerClientOptions {
  /** Client keyring; default from SWITCHBOARD_CLIENT_KEYS(_FILE) in `env`. */
  keyring?: Keyring;
  env?: Record<string, string | undefined>;
  store?: CredentialStoreOptions;
  fetch?: typeof globalThis.fetch;
  /** Epoch milliseconds. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Rotate when the credential expires within this many days. Default 7. */
  rotateWithinDays?: number;
  /** Attempts per request, first included. Default 5. */
  maxAttempts?: number;
  /** First backoff step when the gateway gives no Retry-After. Default 500 ms, doubling, with jitter. */
  baseDelayMs?: number;
  /** Longest single wait; a longer Retry-After ends the retries instead. Default 30 s. */
  maxDelayMs?: number;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  /** Allow http:// to a non-loopback gateway (the bearer token then travels in clear). */
  allowInsecureHttp?: boolean;
  /**
   * Background credential upkeep failed (rotation, or saving the file); requests go on with the current
   * credential while it lives.
   */
  onBackgroundError?: (err: Error) => void;
}

export interface SendOptions {
  /** Same key on every retry; generated when absent so a retry cannot create a duplicate. */
  idempotencyKey?: string;
  requestId?: string;
  signal?: AbortSignal;
}

export interface PeerResponse<T = unknown> {
  status: number;
  body: T;
  /** Lower-case names. */
  headers: Record<string, string>;
}

export interface RotationResult {
  peerId: string;
  credentialId: string;
  expiresAt: string | null;
  previous: { credentialId: string; retiresAt: string } | null;
  /** False when another process had already rotated and its credential was adopted. */
  rotated: boolean;
}

export interface CredentialStatus {
  gatewayUrl: string;
  peerId: string;
  credentialId: string;
  expiresAt: string | null;
  /** Whole days left, rounded up; null when the expiry is unknown. */
  daysLeft: number | null;
  rotationDue: boolean;
  previous: { credentialId: string; retiresAt: string } | null;
  signed: boolean;
}

export interface PeerClientErrorDetails {
  status?: number;
  /** The RFC 9457 body, when the gateway sent one. */
  problem?: unknown;
  retryAfterSeconds?: number;
  attempts?: number;
}

/**
 * `code` is the gateway's problem code when there is one (AUTH_EXPIRED, VALIDATION_FAILED, …), else one of
 * NETWORK_ERROR, TIMEOUT, HTTP_<status>, BAD_RESPONSE, INSECURE_GATEWAY, BAD_REQUEST, ROTATION_NOT_SAVED.
 */
export class PeerClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: PeerClientErrorDetails = {},
  ) {
    super(redactTokens(message));
    this.name = 'PeerClientError';
  }
}

interface Exchange {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  code: string | undefined;
  attempts: number;
}

interface ExpiryHint {
  credentialId: string;
  expiresAtMs: number;
  daysLeft: number | null;
}

/** `2025-03-01T00:00:00.000Z; days-left=5` → parts, or null when unreadable. */
export function parseExpiryHeader(value: string): { expiresAt: Date; daysLeft: number | null } | null {
  const m = /^\s*([^;]+?)\s*(?:;\s*days-left=(-?\d+)\s*)?$/.exec(value);
  if (!m) return null;
  const expiresAt = new Date(m[1]);
  if (Number.isNaN(expiresAt.getTime())) return null;
  return { expiresAt, daysLeft: m[2] === undefined ? null : Number(m[2]) };
}

/** Retry-After as delta-seconds or HTTP-date, in ms from `now`; null when absent or unreadable. */
function retryAfterMs(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const isLoopback = (hostname: string): boolean => {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
};

/** Throws INSECURE_GATEWAY for http:// to anything but loopback, unless allowed. */
export function checkGatewayTransport(gatewayUrl: string, allowInsecureHttp = false): void {
  const url = new URL(gatewayUrl);
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !allowInsecureHttp) {
    throw new PeerClientError(
      'INSECURE_GATEWAY',
      `Refusing to send a bearer token over plain http to ${url.host}; use https (or allow insecure http).`,
    );
  }
}

const problemCode = (body: unknown): string | undefined =>
  typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string'
    ? (body as { code: string }).code
    : undefined;

const problemText = (body: unknown): string => {
  if (typeof body !== 'object' || body === null) return '';
  const p = body as { detail?: unknown; title?: unknown; errors?: unknown };
  const text = typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : '';
  const fields = Array.isArray(p.errors)
    ? p.errors
        .map((e) => (typeof e === 'object' && e !== null ? (e as { field?: unknown }).field : undefined))
        .filter((f): f is string => typeof f === 'string')
    : [];
  return fields.length > 0 ? `${text} (fields: ${fields.slice(0, 5).join(', ')})` : text;
};

const isoOrNull = (s: unknown): string | null =>
  typeof s === 'string' && !Number.isNaN(Date.parse(s)) ? s : null;

/**
 * Talks to the Switchboard gateway as one peer, with the credential kept in an encrypted file: bearer auth,
 * optional Standard-Webhooks signature, retries that cannot duplicate events, and credential rotation before
 * expiry (single-flight within the process, file-locked across processes).
 */
export class PeerClient {
  readonly #store: CredentialStore;
  readonly #fetch: typeof globalThis.fetch;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #rotateWithinMs: number;
  readonly #rotateWithinDays: number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;
  readonly #allowInsecureHttp: boolean;
  readonly #onBackgroundError: (err: Error) => void;

  #state: PeerCredentials | undefined;
  #loading: Promise<PeerCredentials> | undefined;
  #hint: ExpiryHint | null = null;
  #rotation: Promise<RotationResult> | undefined;
  /** After a failed background rotation, no new attempt before this time (epoch ms). */
  #rotationPausedUntil = 0;
  /** The in-memory credential is newer than the file (a rotation whose save failed). */
  #unsaved = false;
  /** An expiry learned from X-Credential-Expires that the file does not have yet. */
  #learnedExpiry: { credentialId: string; expiresAt: string } | null = null;

  constructor(storePath: string, options: PeerClientOptions = {}) {
    const keyring = options.keyring ?? loadClientKeyring(options.env ?? process.env);
    this.#store = new CredentialStore(storePath, keyring, options.store);
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
    this.#rotateWithinDays = options.rotateWithinDays ?? 7;
    this.#rotateWithinMs = this.#rotateWithinDays * DAY_MS;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseDelayMs = options.baseDelayMs ?? 500;
    this.#maxDelayMs = options.maxDelayMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#allowInsecureHttp = options.allowInsecureHttp ?? false;
    this.#onBackgroundError = options.onBackgroundError ?? (() => undefined);
  }

  get storePath(): string {
    return this.#store.path;
  }

  /** What the file says, without secrets; no network. */
  async status(): Promise<CredentialStatus> {
    const c = await this.#current();
    const expiresMs = c.expiresAt === null ? null : Date.parse(c.expiresAt);
    return {
      gatewayUrl: c.gatewayUrl,
      peerId: c.peerId,
      credentialId: c.credentialId,
      expiresAt: c.expiresAt,
      daysLeft: expiresMs === null ? null : Math.ceil((expiresMs - this.#now()) / DAY_MS),
      rotationDue: this.#rotationDue(c),
      previous: c.previous && { credentialId: c.previous.credentialId, retiresAt: c.previous.retiresAt },
      signed: c.signingSecret !== null,
    };
  }

  /** POSTs `body` as JSON to `path` (e.g. `/v1/website/orders`); resolves on 2xx, else throws PeerClientError. */
  async send<T = unknown>(path: string, body: unknown, options: SendOptions = {}): Promise<PeerResponse<T>> {
    // Appended to the gateway URL, so it can never name another host; '//' and '\\' would confuse proxies.
    if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(path) || /[\\#]/.test(path)) {
      throw new PeerClientError(
        'BAD_REQUEST',
        `Path ${JSON.stringify(path)} must be an absolute path like /v1/…`,
      );
    }
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new PeerClientError(
        'BAD_REQUEST',
        'The Idempotency-Key must be 1–200 printable ASCII characters.',
      );
    }
    const raw = JSON.stringify(body);
    if (raw === undefined) throw new PeerClientError('BAD_REQUEST', 'The body is not JSON-serializable.');

    const used = await this.#beforeRequest();
    const request = {
      idempotencyKey,
      requestId: options.requestId,
      signal: options.signal,
      retryNetwork: true,
    };
    let res = await this.#exchange(used, path, raw, request);
    if (this.#credentialRejected(res)) {
      // One re-read, no loop: another process may have rotated the file since we loaded it.
      const onDisk = this.#unsaved ? undefined : await this.#store.read().catch(() => undefined);
      if (onDisk && onDisk.credentialId !== used.credentialId) {
        this.#adopt(onDisk);
        res = await this.#exchange(onDisk, path, raw, request);
        if (this.#credentialRejected(res)) throw this.#rejectedError(onDisk, res);
      } else {
        throw this.#rejectedError(used, res);
      }
    }
    await this.#saveLearnedExpiry();
    if (res.status < 200 || res.status > 299) throw this.#httpError(res);
    return { status: res.status, body: res.body as T, headers: res.headers };
  }

  /**
   * Rotates now: POST /v1/credentials/rotate with the current token, then ONE atomic write with the new token
   * as current and the old one as `previous`. Concurrent callers share one rotation.
   */
  rotate(): Promise<RotationResult> {
    return this.#singleFlightRotation(true);
  }

  async #current(): Promise<PeerCredentials> {
    if (this.#state) return this.#state;
    this.#loading ??= this.#store.read().finally(() => (this.#loading = undefined));
    const loaded = await this.#loading;
    this.#state ??= loaded;
    this.#checkTransport(this.#state.gatewayUrl);
    return this.#state;
  }

  #adopt(c: PeerCredentials): void {
    if (this.#state?.credentialId !== c.credentialId) this.#hint = null;
    this.#state = c;
  }

  #checkTransport(gatewayUrl: string): void {
    checkGatewayTransport(gatewayUrl, this.#allowInsecureHttp);
  }

  #rotationDue(c: PeerCredentials): boolean {
    const now = this.#now();
    if (c.expiresAt !== null && Date.parse(c.expiresAt) - now <= this.#rotateWithinMs) return true;
    const h = this.#hint;
    if (!h || h.credentialId !== c.credentialId) return false;
    // The gateway's own count wins when present: it is immune to clock skew on this host.
    return h.daysLeft !== null
      ? h.daysLeft <= this.#rotateWithinDays
      : h.expiresAtMs - now <= this.#rotateWithinMs;
  }

  async #beforeRequest(): Promise<PeerCredentials> {
    let c = await this.#current();
    if (this.#unsaved) await this.#saveUnsaved(c);
    if (this.#rotationDue(c) && this.#now() >= this.#rotationPausedUntil) {
      try {
        await this.#singleFlightRotation(false);
      } catch (err) {
        this.#rotationPausedUntil = this.#now() + 60_000;
        this.#onBackgroundError(err as Error);
        const expiresAt = c.expiresAt === null ? Infinity : Date.parse(c.expiresAt);
        if (expiresAt <= this.#now()) throw err; // nothing left to send with
      }
      c = this.#state ?? c;
    }
    return c;
  }

  #singleFlightRotation(force: boolean): Promise<RotationResult> {
    this.#rotation ??= this.#rotateOnce(force).finally(() => (this.#rotation = undefined));
    return this.#rotation;
  }

  async #saveUnsaved(c: PeerCredentials): Promise<void> {
    try {
      await this.#store.withLock(() => this.#store.write(c));
      this.#unsaved = false;
    } catch (err) {
      this.#onBackgroundError(err as Error);
    }
  }

  async #rotateOnce(force: boolean): Promise<RotationResult> {
    await this.#current();
    return this.#store.withLock(async () => {
      let base: PeerCredentials;
      if (this.#unsaved && this.#state) {
        base = this.#state;
      } else {
        const onDisk = await this.#store.read();
        const changed = onDisk.credentialId !== this.#state?.credentialId;
        this.#adopt(onDisk);
        base = onDisk;
        // Another process rotated while we waited for the lock: its credential is fresh enough.
        if (changed && !force && !this.#rotationDue(onDisk)) return this.#describe(onDisk, false);
      }
      this.#checkTransport(base.gatewayUrl);

      const res = await this.#exchange(base, ROTATE_PATH, '{}', { retryNetwork: false });
      if (this.#credentialRejected(res)) throw this.#rejectedError(base, res);
      if (res.status < 200 || res.status > 299) throw this.#httpError(res, 'Rotation failed');
      const next = this.#rotatedCredentials(base, res.body);

      this.#state = next;
      this.#hint = null;
      this.#unsaved = true;
      try {
        await this.#store.write(next);
      } catch (err) {
        throw new PeerClientError(
          'ROTATION_NOT_SAVED',
          `Rotated to credential ${next.credentialId} but could not save it (${(err as Error).message}); ` +
            `this process keeps using it and retries the save before each request. Credential ` +
            `${base.credentialId} stays valid until ${next.previous?.retiresAt ?? 'its retirement'}.`,
        );
      }
      this.#unsaved = false;
      return this.#describe(next, true);
    });
  }

  #rotatedCredentials(base: PeerCredentials, body: unknown): PeerCredentials {
    const bad = (what: string): never => {
      throw new PeerClientError('BAD_RESPONSE', `The gateway's rotation answer is unusable: ${what}.`);
    };
    if (typeof body !== 'object' || body === null) return bad('not a JSON object');
    const r = body as Record<string, unknown>;
    if (r.peerId !== base.peerId) return bad(`it is for peer ${String(r.peerId)}, not ${base.peerId}`);
    const parsed = typeof r.token === 'string' ? parseToken(r.token) : null;
    if (!parsed || parsed.credentialId !== r.credentialId) return bad('no valid token for the credentialId');
    const expiresAt = isoOrNull(r.expiresAt);
    if (expiresAt === null) return bad('expiresAt is not an ISO-8601 date');
    const entry = Array.isArray(r.previous)
      ? (r.previous as unknown[]).find(
          (p) =>
            typeof p === 'object' &&
            p !== null &&
            (p as { credentialId?: unknown }).credentialId === base.credentialId,
        )
      : undefined;
    // Not listed: the gateway retired it at once, so it is only kept for diagnosis.
    const retiresAt =
      isoOrNull((entry as { retiresAt?: unknown } | undefined)?.retiresAt) ??
      new Date(this.#now()).toISOString();
    return {
      ...base,
      credentialId: parsed.credentialId,
      token: r.token as string,
      expiresAt,
      previous: { credentialId: base.credentialId, token: base.token, retiresAt },
    };
  }

  #describe(c: PeerCredentials, rotated: boolean): RotationResult {
    return {
      peerId: c.peerId,
      credentialId: c.credentialId,
      expiresAt: c.expiresAt,
      previous: c.previous && { credentialId: c.previous.credentialId, retiresAt: c.previous.retiresAt },
      rotated,
    };
  }

  /** One logical request, retried on 429/502/503/504 (and network errors when allowed) with the same bytes. */
  async #exchange(
    c: PeerCredentials,
    path: string,
    raw: string,
    opts: { idempotencyKey?: string; requestId?: string; signal?: AbortSignal; retryNetwork: boolean },
  ): Promise<Exchange> {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetchOnce(c, path, raw, opts);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (!opts.retryNetwork || attempt >= this.#maxAttempts) throw this.#networkError(c, err, attempt);
        await this.#sleep(this.#backoffMs(attempt));
        continue;
      }
      const res = await this.#read(response, attempt);
      this.#observeExpiry(c, res.headers['x-credential-expires']);
      const retryable =
        res.status === 502 ||
        res.status === 503 ||
        res.status === 504 ||
        (res.status === 429 && res.code !== 'AUTH_LOCKED');
      if (!retryable || attempt >= this.#maxAttempts) return res;
      const waitMs = retryAfterMs(res.headers['retry-after'], this.#now());
      if (waitMs !== null && waitMs > this.#maxDelayMs) return res; // the caller decides on long waits
      await this.#sleep(waitMs ?? this.#backoffMs(attempt));
    }
  }

  /** Exponential, with jitter so that many clients failing together do not retry in step. */
  #backoffMs(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling * (0.5 + Math.random() / 2));
  }

  #networkError(c: PeerCredentials, err: unknown, attempts: number): PeerClientError {
    if ((err as Error).name === 'TimeoutError') {
      return new PeerClientError('TIMEOUT', `No answer from ${c.gatewayUrl} within ${this.#timeoutMs} ms.`, {
        attempts,
      });
    }
    // undici puts the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
    const cause = (err as { cause?: { code?: unknown } }).cause;
    const why = typeof cause?.code === 'string' ? cause.code : (err as Error).message;
    return new PeerClientError(
      'NETWORK_ERROR',
      `Cannot reach ${c.gatewayUrl}: ${why} (after ${attempts} attempt(s)).`,
      { attempts },
    );
  }

  async #fetchOnce(
    c: PeerCredentials,
    path: string,
    raw: string,
    opts: { idempotencyKey?: string; requestId?: string; signal?: AbortSignal },
  ): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      authorization: `Bearer ${c.token}`,
    };
    if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = opts.idempotencyKey;
    if (opts.requestId !== undefined) headers['x-request-id'] = opts.requestId;
    // Not the rotate call: the gateway tries the signature first, and rotation needs a credential login.
    if (c.signingSecret !== null && path !== ROTATE_PATH) {
      headers['x-peer-id'] = c.peerId;
      // A fresh id per attempt: duplicates are the Idempotency-Key's job, and a gateway that marks
      // webhook ids as seen before answering would otherwise reject the retry of a 503 as a replay.
      const id = `msg_${randomUUID()}`;
      const timestamp = Math.floor(this.#now() / 1000);
      headers['webhook-id'] = id;
      headers['webhook-timestamp'] = String(timestamp);
      headers['webhook-signature'] = signStandardWebhook(id, timestamp, raw, c.signingSecret);
    }
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    return this.#fetch(`${c.gatewayUrl}${path}`, {
      method: 'POST',
      headers,
      body: raw,
      // Never follow: a redirect would carry the bearer token or drop the POST body.
      redirect: 'manual',
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    });
  }

  async #read(response: Response, attempts: number): Promise<Exchange> {
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    const text = await response.text();
    let body: unknown = text === '' ? null : text;
    if (text !== '' && /json/i.test(headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(text);
      } catch {
        // Keep the text: a proxy's error page is still worth showing.
      }
    }
    return { status: response.status, headers, body, code: problemCode(body), attempts };
  }

  #observeExpiry(c: PeerCredentials, header: string | undefined): void {
    if (header === undefined) return;
    const parsed = parseExpiryHeader(header);
    // Only about the credential that made the request: an answer to a pre-rotation request must not
    // schedule another rotation of the new credential.
    if (!parsed || this.#state?.credentialId !== c.credentialId) return;
    this.#hint = {
      credentialId: c.credentialId,
      expiresAtMs: parsed.expiresAt.getTime(),
      daysLeft: parsed.daysLeft,
    };
    const expiresAt = parsed.expiresAt.toISOString();
    if (this.#state.expiresAt !== expiresAt) {
      this.#state.expiresAt = expiresAt;
      this.#learnedExpiry = { credentialId: c.credentialId, expiresAt };
    }
  }

  /**
   * Writes a learned expiry to the file, so that the next process (a CLI run, a restarted service) knows
   * the rotation is due before its first request, not only after it.
   */
  async #saveLearnedExpiry(): Promise<void> {
    const learned = this.#learnedExpiry;
    if (!learned || this.#unsaved) return;
    this.#learnedExpiry = null;
    try {
      await this.#store.withLock(async () => {
        const onDisk = await this.#store.read();
        if (onDisk.credentialId !== learned.credentialId || onDisk.expiresAt === learned.expiresAt) return;
        await this.#store.write({ ...onDisk, expiresAt: learned.expiresAt });
      });
    } catch (err) {
      this.#onBackgroundError(err as Error);
    }
  }

  #credentialRejected(res: Exchange): boolean {
    return res.status === 401 && (res.code === undefined || CREDENTIAL_REJECTED.has(res.code));
  }

  #rejectedError(c: PeerCredentials, res: Exchange): PeerClientError {
    const code = res.code ?? 'AUTH_INVALID';
    const expiresMs = c.expiresAt === null ? null : Date.parse(c.expiresAt);
    const expiredLocally = expiresMs !== null && expiresMs <= this.#now();
    let hint: string;
    if (code === 'AUTH_REVOKED') {
      hint = 'It was revoked; ask an operator for a new credential and run "peer init --force".';
    } else if (code === 'AUTH_EXPIRED' && expiredLocally) {
      hint = `It expired at ${c.expiresAt}; only an operator can issue a new one (then "peer init --force").`;
    } else {
      const prev = c.previous
        ? ` Its predecessor ${c.previous.credentialId} (retiring ${c.previous.retiresAt}) is kept in the file.`
        : '';
      hint =
        `The file ${this.#store.path} may be out of step with the gateway (restored from a backup, or a ` +
        `rotation whose answer was lost); not retrying. Ask an operator for a new credential if it persists.${prev}`;
    }
    return new PeerClientError(
      code,
      `Credential ${c.credentialId} of peer ${c.peerId} was rejected (${code}). ${hint}`,
      {
        status: res.status,
        problem: res.body,
        attempts: res.attempts,
      },
    );
  }

  #httpError(res: Exchange, prefix = 'The gateway answered'): PeerClientError {
    const retryAfter = retryAfterMs(res.headers['retry-after'], this.#now());
    const retryAfterSeconds = retryAfter === null ? undefined : Math.ceil(retryAfter / 1000);
    const code = res.code ?? `HTTP_${res.status}`;
    const location =
      res.status >= 300 && res.status < 400 ? ` (redirect to ${res.headers.location ?? '?'})` : '';
    const text = problemText(res.body) || (typeof res.body === 'string' ? res.body.slice(0, 200) : '');
    const after = retryAfterSeconds === undefined ? '' : ` Retry after ${retryAfterSeconds} s.`;
    return new PeerClientError(
      code,
      `${prefix} ${res.status} ${code}${location}${text ? `: ${text}` : ''} after ${res.attempts} attempt(s).${after}`,
      { status: res.status, problem: res.body, retryAfterSeconds, attempts: res.attempts },
    );
  }
}
