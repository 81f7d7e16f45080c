import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fsp, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken, parseToken, verifyStandardWebhookSignature } from '@switchboard/peer-auth';
import { Keyring } from '@switchboard/secrets';
import { CredentialStore, type PeerCredentials } from './credential-store';
import { parseExpiryHeader, PeerClient, PeerClientError, type PeerClientOptions } from './peer-client';

const DAY = 86_400_000;
const HOUR = 3_600_000;

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface Seen {
  path: string;
  credentialId: string | null;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
}

/** Just enough of the gateway's contract: bearer credentials with expiry/retirement, rotation, events. */
class FakeGateway {
  readonly credentials = new Map<string, { expiresAt: number; retiresAt: number | null }>();
  readonly seen: Seen[] = [];
  /** Replies for the next event requests, before normal handling. */
  readonly script: Reply[] = [];
  readonly eventsByKey = new Map<string, string>();
  rotations = 0;
  overlapMs = 24 * HOUR;
  warnDays = 14;
  signingSecret: string | null = null;
  url = '';
  #server: Server | undefined;

  constructor(readonly now: () => number) {}

  issue(expiresInMs: number): string {
    const t = issueToken();
    this.credentials.set(t.token, { expiresAt: this.now() + expiresInMs, retiresAt: null });
    return t.token;
  }

  events(): Seen[] {
    return this.seen.filter((s) => s.path !== '/v1/credentials/rotate');
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.#handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #handle(req: IncomingMessage, rawBody: Buffer, res: ServerResponse): Promise<void> {
    const send = ({ status, headers = {}, body }: Reply): void => {
      const problem = typeof body === 'object' && body !== null && 'code' in body && status >= 400;
      res.writeHead(status, {
        'content-type': problem ? 'application/problem+json' : 'application/json',
        ...headers,
      });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const fail = (status: number, code: string): void =>
      send({ status, body: { status, code, title: code } });

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    this.seen.push({
      path: req.url ?? '',
      credentialId: parseToken(token)?.credentialId ?? null,
      headers: req.headers,
      rawBody,
    });
    const cred = this.credentials.get(token);
    if (!cred) return fail(401, 'AUTH_INVALID');
    const now = this.now();
    if (now >= cred.expiresAt || (cred.retiresAt !== null && now >= cred.retiresAt)) {
      return fail(401, 'AUTH_EXPIRED');
    }
    const signed = req.headers['webhook-signature'] !== undefined;
    // Like the gateway: a signature authenticates the peer, not a credential, so it cannot rotate.
    if (signed && req.url === '/v1/credentials/rotate') return fail(409, 'CONFLICT');
    if (signed && req.headers['x-peer-id'] !== 'shop') return fail(401, 'AUTH_MISSING');
    if (signed && this.signingSecret !== null) {
      const check = verifyStandardWebhookSignature(
        { method: 'POST', url: req.url ?? '', headers: req.headers, rawBody },
        this.signingSecret,
        { now: this.now },
      );
      if (!check.ok) return fail(401, 'AUTH_SIGNATURE_INVALID');
    }
    const headers: Record<string, string> = {};
    const msLeft = cred.expiresAt - now;
    if (msLeft <= this.warnDays * DAY) {
      headers['x-credential-expires'] =
        `${new Date(cred.expiresAt).toISOString()}; days-left=${Math.ceil(msLeft / DAY)}`;
    }

    if (req.url === '/v1/credentials/rotate') {
      this.rotations++;
      await new Promise((r) => setTimeout(r, 30)); // a window for concurrent callers to pile up
      const previous: Array<{ credentialId: string; retiresAt: string }> = [];
      for (const [t, c] of this.credentials) {
        if (c.retiresAt === null && now < c.expiresAt) {
          c.retiresAt = now + this.overlapMs;
          previous.push({
            credentialId: parseToken(t)!.credentialId,
            retiresAt: new Date(c.retiresAt).toISOString(),
          });
        }
      }
      const next = this.issue(90 * DAY);
      return send({
        status: 201,
        headers,
        body: {
          peerId: 'shop',
          credentialId: parseToken(next)!.credentialId,
          token: next,
          expiresAt: new Date(this.credentials.get(next)!.expiresAt).toISOString(),
          previous,
        },
      });
    }
    const scripted = this.script.shift();
    if (scripted) return send(scripted);
    const key = req.headers['idempotency-key'] as string | undefined;
    const eventId = (key && this.eventsByKey.get(key)) ?? randomUUID();
    if (key) this.eventsByKey.set(key, eventId);
    return send({ status: 202, headers, body: { eventId } });
  }
}

async function clientError(promise: Promise<unknown>): Promise<PeerClientError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(PeerClientError);
    return err as PeerClientError;
  }
  throw new Error('expected a PeerClientError');
}

const ORDER = { externalId: '1001', status: 'new', total: 4990, currency: 'RUB' };

describe('PeerClient', () => {
  let clock: number;
  let gateway: FakeGateway;
  let keyring: Keyring;
  let path: string;
  let sleeps: number[];

  beforeEach(async () => {
    clock = Date.parse('2030-01-01T00:00:00Z');
    gateway = new FakeGateway(() => clock);
    await gateway.start();
    keyring = new Keyring([{ id: 'k1', key: randomBytes(32) }]);
    path = join(mkdtempSync(join(tmpdir(), 'peer-client-')), 'shop.json');
    sleeps = [];
  });
  afterEach(() => gateway.stop());

  const store = (): CredentialStore => new CredentialStore(path, keyring);

  async function provision(
    expiresInMs: number,
    fileExpiresAt: 'known' | 'unknown' = 'known',
    extra: Partial<PeerCredentials> = {},
  ): Promise<string> {
    const token = gateway.issue(expiresInMs);
    await store().write({
      gatewayUrl: gateway.url,
      peerId: 'shop',
      credentialId: parseToken(token)!.credentialId,
      expiresAt: fileExpiresAt === 'known' ? new Date(clock + expiresInMs).toISOString() : null,
      token,
      previous: null,
      signingSecret: null,
      ...extra,
    });
    return token;
  }

  const client = (options: PeerClientOptions = {}): PeerClient =>
    new PeerClient(path, {
      keyring,
      now: () => clock,
      sleep: async (ms) => void sleeps.push(ms),
      ...options,
    });

  it('sends JSON with the bearer token and returns the 202', async () => {
    const token = await provision(60 * DAY);
    const res = await client().send('/v1/website/orders', ORDER, { idempotencyKey: 'order-1001' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId: expect.any(String) });
    const [seen] = gateway.seen;
    expect(seen.path).toBe('/v1/website/orders');
    expect(seen.headers.authorization).toBe(`Bearer ${token}`);
    expect(seen.headers['idempotency-key']).toBe('order-1001');
    expect(JSON.parse(seen.rawBody.toString())).toEqual(ORDER);
  });

  it('rotates before the next request once X-Credential-Expires says days-left <= 7', async () => {
    const old = await provision(5 * DAY, 'unknown'); // only the header can tell
    const c = client();
    const first = await c.send('/v1/website/orders', ORDER);
    expect(first.headers['x-credential-expires']).toMatch(/; days-left=5$/);
    expect(gateway.rotations).toBe(0);

    await c.send('/v1/website/orders', ORDER);
    expect(gateway.rotations).toBe(1);
    const [a, rotate, b] = gateway.seen;
    expect(rotate.path).toBe('/v1/credentials/rotate');
    expect(rotate.credentialId).toBe(parseToken(old)!.credentialId);
    expect(b.credentialId).not.toBe(a.credentialId);

    const saved = await store().read();
    expect(saved.credentialId).toBe(b.credentialId);
    expect(saved.expiresAt).toBe(new Date(clock + 90 * DAY).toISOString());
    expect(saved.previous).toEqual({
      credentialId: a.credentialId,
      token: old,
      retiresAt: new Date(clock + 24 * HOUR).toISOString(),
    });
    expect(readFileSync(path).includes(Buffer.from(saved.token))).toBe(false);

    await c.send('/v1/website/orders', ORDER);
    expect(gateway.rotations).toBe(1); // the new credential is not due
  });

  it('saves an expiry learned from the header, so a fresh process rotates before its first request', async () => {
    await provision(5 * DAY, 'unknown');
    await client().send('/v1/website/orders', ORDER); // e.g. one CLI run
    expect((await store().read()).expiresAt).toBe(new Date(clock + 5 * DAY).toISOString());
    expect(gateway.rotations).toBe(0);

    await client().send('/v1/website/orders', ORDER); // the next run
    expect(gateway.seen.map((s) => s.path)).toEqual([
      '/v1/website/orders',
      '/v1/credentials/rotate',
      '/v1/website/orders',
    ]);
  });

  it('does not rotate while days-left is above the threshold; the threshold is inclusive', async () => {
    await provision(10 * DAY, 'unknown');
    const c = client();
    for (let i = 0; i < 3; i++) await c.send('/v1/website/orders', ORDER);
    expect(gateway.rotations).toBe(0);
    expect(await c.status()).toMatchObject({ daysLeft: 10, rotationDue: false }); // learned from the header

    // The saved expiry is exactly 10 days away: due for a threshold of 10, before the first request.
    await client({ rotateWithinDays: 10 }).send('/v1/website/orders', ORDER);
    expect(gateway.rotations).toBe(1);
    expect(gateway.seen.at(-2)?.path).toBe('/v1/credentials/rotate');
  });

  it('rotates once for 10 concurrent sends, and all of them use the new token', async () => {
    const old = await provision(2 * DAY);
    const c = client();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => c.send('/v1/website/orders', { ...ORDER, externalId: String(i) })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(gateway.rotations).toBe(1);
    const events = gateway.events();
    expect(events).toHaveLength(10);
    const newId = (await store().read()).credentialId;
    expect(newId).not.toBe(parseToken(old)!.credentialId);
    expect(new Set(events.map((e) => e.credentialId))).toEqual(new Set([newId]));
  });

  it('rotates once when the header-triggered rotation meets 10 concurrent sends', async () => {
    await provision(3 * DAY, 'unknown');
    const c = client();
    await c.send('/v1/website/orders', ORDER);
    await Promise.all(Array.from({ length: 10 }, () => c.send('/v1/website/orders', ORDER)));
    expect(gateway.rotations).toBe(1);
    const ids = gateway.events().map((e) => e.credentialId);
    expect(new Set(ids.slice(1)).size).toBe(1);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it('retries a 503 with the same generated Idempotency-Key, honoring Retry-After', async () => {
    await provision(60 * DAY);
    const unavailable: Reply = {
      status: 503,
      headers: { 'retry-after': '1' },
      body: { status: 503, code: 'BROKER_UNAVAILABLE' },
    };
    gateway.script.push(unavailable, unavailable);
    const res = await client().send('/v1/website/orders', ORDER);
    expect(res.status).toBe(202);
    const keys = gateway.events().map((e) => e.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
    expect(sleeps).toEqual([1000, 1000]);
    expect(gateway.events().map((e) => e.rawBody.toString())).toEqual(Array(3).fill(JSON.stringify(ORDER)));
  });

  it("keeps the caller's Idempotency-Key across a network error and a 429", async () => {
    await provision(60 * DAY);
    let calls = 0;
    const flaky: typeof fetch = (input, init) =>
      ++calls === 1 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    gateway.script.push({
      status: 429,
      headers: { 'retry-after': '2' },
      body: { status: 429, code: 'RATE_LIMITED' },
    });
    const res = await client({ fetch: flaky }).send('/v1/website/orders', ORDER, {
      idempotencyKey: 'order-7',
    });
    expect(res.status).toBe(202);
    expect(calls).toBe(3);
    expect(gateway.events().map((e) => e.headers['idempotency-key'])).toEqual(['order-7', 'order-7']);
    expect(sleeps[1]).toBe(2000);
  });

  it('gives up after maxAttempts, and at once when Retry-After exceeds maxDelayMs', async () => {
    await provision(60 * DAY);
    const unavailable: Reply = { status: 503, body: { status: 503, code: 'BROKER_UNAVAILABLE' } };
    gateway.script.push(unavailable, unavailable, unavailable, unavailable);
    const err = await clientError(client({ maxAttempts: 3 }).send('/v1/website/orders', ORDER));
    expect(err.code).toBe('BROKER_UNAVAILABLE');
    expect(err.details).toMatchObject({ status: 503, attempts: 3 });
    expect(gateway.events()).toHaveLength(3);

    gateway.script.length = 0;
    gateway.script.push({
      status: 429,
      headers: { 'retry-after': '120' },
      body: { status: 429, code: 'RATE_LIMITED' },
    });
    const limited = await clientError(client().send('/v1/website/orders', ORDER));
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.details.retryAfterSeconds).toBe(120);
    expect(gateway.events()).toHaveLength(4);
  });

  it('does not loop on AUTH_INVALID: one request, no rotation, a clear error without the token', async () => {
    const token = await provision(60 * DAY);
    gateway.credentials.clear(); // the gateway no longer knows it
    const c = client();
    const err = await clientError(c.send('/v1/website/orders', ORDER));
    expect(err.code).toBe('AUTH_INVALID');
    expect(err.message).toContain(parseToken(token)!.credentialId);
    expect(err.message).toMatch(/out of step with the gateway/);
    expect(err.message).not.toContain(token);
    expect(gateway.seen).toHaveLength(1);
    expect(gateway.rotations).toBe(0);
  });

  it('stays bounded when a due credential is rejected: one rotation attempt, then plain failures', async () => {
    await provision(2 * DAY);
    gateway.credentials.clear();
    const rotationErrors: Error[] = [];
    const c = client({ onBackgroundError: (e) => rotationErrors.push(e) });
    for (let i = 0; i < 3; i++) {
      expect((await clientError(c.send('/v1/website/orders', ORDER))).code).toBe('AUTH_INVALID');
    }
    expect(rotationErrors).toHaveLength(1);
    expect(gateway.seen.map((s) => s.path)).toEqual([
      '/v1/credentials/rotate',
      '/v1/website/orders',
      '/v1/website/orders',
      '/v1/website/orders',
    ]);
  });

  it('explains AUTH_EXPIRED from a file restored from before a rotation', async () => {
    await provision(60 * DAY);
    const backup = readFileSync(path);
    await client().rotate();
    await fsp.writeFile(path, backup);
    clock += 25 * HOUR; // past the overlap: the old credential is retired
    const err = await clientError(client().send('/v1/website/orders', ORDER));
    expect(err.code).toBe('AUTH_EXPIRED');
    expect(err.message).toMatch(/restored from a backup/);
    expect(gateway.events()).toHaveLength(1);
  });

  it('adopts a credential another process rotated, retrying once', async () => {
    await provision(60 * DAY);
    gateway.overlapMs = 0; // the old credential dies with the rotation
    const stale = client();
    await stale.status(); // loads the old credential
    const rotated = await client().rotate();
    const res = await stale.send('/v1/website/orders', ORDER);
    expect(res.status).toBe(202);
    expect(gateway.events().map((e) => e.credentialId)).toEqual([
      rotated.previous!.credentialId,
      rotated.credentialId,
    ]);
  });

  it('rotate() persists current and previous in one atomic write', async () => {
    const old = await provision(60 * DAY);
    let renames = 0;
    const c = client({ store: { fs: { rename: (a, b) => (renames++, fsp.rename(a, b)) } } });
    const result = await c.rotate();
    expect(renames).toBe(1);
    expect(result).toMatchObject({
      peerId: 'shop',
      rotated: true,
      previous: { credentialId: parseToken(old)!.credentialId },
    });
    const saved = await store().read();
    expect(saved.credentialId).toBe(result.credentialId);
    expect(saved.previous?.token).toBe(old);
  });

  it('keeps using a rotated credential whose save failed, and saves it before the next request', async () => {
    await provision(60 * DAY);
    let failRename = true;
    const c = client({
      store: {
        fs: {
          rename: (a, b) => (failRename ? Promise.reject(new Error('disk full')) : fsp.rename(a, b)),
        },
      },
    });
    const err = await clientError(c.rotate());
    expect(err.code).toBe('ROTATION_NOT_SAVED');
    expect(err.message).not.toMatch(/sbp_[0-9A-Za-z]{12}_/);
    const oldId = JSON.parse(readFileSync(path, 'utf8')).credentialId as string;
    failRename = false;
    await c.send('/v1/website/orders', ORDER);
    const saved = await store().read();
    expect(saved.credentialId).not.toBe(oldId);
    expect(gateway.events()[0].credentialId).toBe(saved.credentialId);
  });

  it('signs Standard-Webhooks style when the file has a signing secret, fresh per attempt', async () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    await provision(60 * DAY, 'known', { signingSecret: secret });
    gateway.signingSecret = secret;
    gateway.script.push({ status: 503, body: { status: 503, code: 'BROKER_UNAVAILABLE' } });
    const res = await client().send('/v1/website/orders', ORDER);
    expect(res.status).toBe(202);
    const ids = gateway.events().map((e) => e.headers['webhook-id']);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);

    expect(gateway.events()[0].headers['x-peer-id']).toBe('shop');

    await client().rotate(); // unsigned: a signed rotation would be refused
    const rotateCall = gateway.seen.find((e) => e.path === '/v1/credentials/rotate')!;
    expect(rotateCall.headers['webhook-signature']).toBeUndefined();
    expect(gateway.rotations).toBe(1);

    gateway.signingSecret = `whsec_${randomBytes(24).toString('base64')}`; // the gateway expects another
    expect((await clientError(client().send('/v1/website/orders', ORDER))).code).toBe(
      'AUTH_SIGNATURE_INVALID',
    );
  });

  it('refuses plain http to a non-loopback gateway before sending anything', async () => {
    const token = issueToken();
    await store().write({
      gatewayUrl: 'http://gateway.example.com',
      peerId: 'shop',
      credentialId: token.credentialId,
      expiresAt: null,
      token: token.token,
      previous: null,
      signingSecret: null,
    });
    let fetched = false;
    const c = client({ fetch: () => ((fetched = true), Promise.reject(new Error('no'))) });
    expect((await clientError(c.send('/v1/website/orders', ORDER))).code).toBe('INSECURE_GATEWAY');
    expect(fetched).toBe(false);
  });

  it('rejects bad paths and idempotency keys locally', async () => {
    await provision(60 * DAY);
    const c = client();
    for (const p of ['v1/x', '//evil.example/x', '/a\\b', '/a b']) {
      expect((await clientError(c.send(p, ORDER))).code).toBe('BAD_REQUEST');
    }
    expect((await clientError(c.send('/v1/x', ORDER, { idempotencyKey: 'é' }))).code).toBe('BAD_REQUEST');
    expect(gateway.seen).toHaveLength(0);
  });
});

describe('parseExpiryHeader', () => {
  it('reads the expiry and days-left, and rejects junk', () => {
    expect(parseExpiryHeader('2030-03-01T00:00:00.000Z; days-left=5')).toEqual({
      expiresAt: new Date('2030-03-01T00:00:00.000Z'),
      daysLeft: 5,
    });
    expect(parseExpiryHeader('2030-03-01T00:00:00.000Z')?.daysLeft).toBeNull();
    expect(parseExpiryHeader('soon; days-left=5')).toBeNull();
  });
});
