import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signStandardWebhook, signWooCommerce } from '@switchboard/peer-auth';
import { eventually, order, ROOT, sleep, TestSystem } from './support/system';

/**
 * Issue 3 acceptance: every auth failure code for every presentation method, rotation with overlap, expiry,
 * revocation, IP allowlist, scopes, lockout and recovery, quotas, signatures, and no plaintext secret at rest.
 */
const OVERLAP_SECONDS = 6;
const LOCKOUT_FAILURES = 5;
const LOCKOUT_SECONDS = 2;

type Method = 'bearer' | 'api-key' | 'basic' | 'login-body' | 'login-query';
const METHODS: Method[] = ['bearer', 'api-key', 'basic', 'login-body', 'login-query'];

describe('peer security at the gateway', () => {
  const sys = new TestSystem('peer-security', {
    PEER_CREDENTIAL_OVERLAP_HOURS: String(OVERLAP_SECONDS / 3600),
    PEER_LOCKOUT_MAX_FAILURES: String(LOCKOUT_FAILURES),
    PEER_LOCKOUT_BASE_SECONDS: String(LOCKOUT_SECONDS),
  });
  const issuedTokens: string[] = [];
  const signingSecrets: string[] = [];

  beforeAll(async () => {
    await sys.start(['gateway', 'console']);
    issuedTokens.push(sys.peerKey);
  });
  afterAll(() => sys.destroy());

  async function createPeer(fields: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const res = await sys.consoleCall('POST', '/v1/admin/peers', {
      kind: 'website',
      scopes: ['website.*'],
      // This suite presents credentials every way, the URL included (off by default; see peer-abuse).
      allowUrlCredentials: true,
      ...fields,
    });
    expect(res.status).toBe(201);
    issuedTokens.push(res.body.credential.token);
    if (typeof fields.signingSecret === 'string') signingSecrets.push(fields.signingSecret);
    // The gateway learns of the new peer through NOTIFY; wait until it answers for it.
    return { id: res.body.peer.id, token: res.body.credential.token };
  }

  /** POST an order presenting `token` of `peerId` the given way. */
  function send(method: Method, peerId: string, token: string, body: Record<string, unknown> = order()) {
    const url = new URL(`${sys.app('gateway').url}/v1/website/orders`);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    let payload: Record<string, unknown> = body;
    if (method === 'bearer') headers.authorization = `Bearer ${token}`;
    if (method === 'api-key') headers['x-api-key'] = token;
    if (method === 'basic')
      headers.authorization = `Basic ${Buffer.from(`${peerId}:${token}`).toString('base64')}`;
    if (method === 'login-body') payload = { ...body, login: peerId, password: token };
    if (method === 'login-query') {
      url.searchParams.set('login', peerId);
      url.searchParams.set('password', token);
    }
    return fetch(url, { method: 'POST', headers, body: JSON.stringify(payload) });
  }

  async function expectCode(res: Response, status: number, code: string) {
    const body = (await res.json()) as any;
    expect({ status: res.status, code: body.code }).toEqual({ status, code });
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    return body;
  }

  const waitUntilAccepted = (method: Method, peerId: string, token: string) =>
    eventually(async () => (await send(method, peerId, token)).status === 202, 10_000);

  it('accepts a valid credential presented each way, and the body fields login/password are not part of the order', async () => {
    const peer = await createPeer({ id: 'ways', name: 'Ways' });
    expect(await waitUntilAccepted('bearer', peer.id, peer.token)).toBe(true);
    for (const m of METHODS) {
      const res = await send(m, peer.id, peer.token);
      expect({ m, status: res.status }).toEqual({ m, status: 202 });
    }
    // Form bodies carry login/password too (rotation needs no other body).
    const form = await fetch(`${sys.app('gateway').url}/v1/credentials/rotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login: peer.id, password: peer.token }).toString(),
    });
    expect(form.status).toBe(201);
    issuedTokens.push(((await form.json()) as any).token);
  });

  it('answers AUTH_MISSING without any credential and AUTH_INVALID for a wrong one, known and unknown peers alike', async () => {
    await expectCode(
      await fetch(`${sys.app('gateway').url}/v1/website/orders`, { method: 'POST' }),
      401,
      'AUTH_MISSING',
    );
    const peer = await createPeer({ id: 'wrong-secrets', name: 'Wrong' });
    await waitUntilAccepted('bearer', peer.id, peer.token);
    const forged = `${peer.token.slice(0, 20)}${peer.token.slice(20).split('').reverse().join('')}`;
    for (const m of METHODS) {
      const known = await expectCode(await send(m, peer.id, forged), 401, 'AUTH_INVALID');
      const unknown = await expectCode(await send(m, 'no-such-peer', forged), 401, 'AUTH_INVALID');
      // Same words for a known and an unknown peer: nothing to enumerate.
      expect({ title: known.title, detail: known.detail }).toEqual({
        title: unknown.title,
        detail: unknown.detail,
      });
    }
    // Another peer's valid token under this peer's name is still invalid.
    await expectCode(await send('basic', peer.id, sys.peerKey), 401, 'AUTH_INVALID');
  });

  it('rotation: both credentials work during the overlap, only the new one after it', async () => {
    const peer = await createPeer({ id: 'rotator', name: 'Rotator' });
    await waitUntilAccepted('bearer', peer.id, peer.token);
    const res = await fetch(`${sys.app('gateway').url}/v1/credentials/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${peer.token}` },
    });
    expect(res.status).toBe(201);
    const rotated = (await res.json()) as any;
    issuedTokens.push(rotated.token);
    expect(rotated).toMatchObject({ peerId: peer.id, token: expect.stringMatching(/^sbp_/) });
    expect(rotated.previous).toEqual([
      { credentialId: peer.token.split('_')[1], retiresAt: expect.any(String) },
    ]);
    const rotatedAt = Date.now();
    for (const m of METHODS) {
      expect((await send(m, peer.id, peer.token)).status).toBe(202);
      expect((await send(m, peer.id, rotated.token)).status).toBe(202);
    }
    await sleep(Math.max(0, rotatedAt + OVERLAP_SECONDS * 1000 + 500 - Date.now()));
    for (const m of METHODS) {
      await expectCode(await send(m, peer.id, peer.token), 401, 'AUTH_EXPIRED');
      expect((await send(m, peer.id, rotated.token)).status).toBe(202);
    }
    const shown = await sys.consoleGet(`/v1/admin/peers/${peer.id}`);
    expect(shown.body.credentials.map((c: any) => c.state).sort()).toEqual(['active', 'retired']);
  });

  it('expired and revoked credentials are refused at once, each way', async () => {
    const peer = await createPeer({ id: 'lifecycle', name: 'Lifecycle', expiresInDays: 3 });
    await waitUntilAccepted('bearer', peer.id, peer.token);
    // Inside the warning window: every answer says when the credential expires.
    const warned = await send('bearer', peer.id, peer.token);
    expect(warned.headers.get('x-credential-expires')).toMatch(/^\d{4}-.*Z; days-left=3$/);

    const credentialId = peer.token.split('_')[1];
    await sys.sql(`UPDATE peer_credentials SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      credentialId,
    ]);
    expect(
      await eventually(async () => (await send('bearer', peer.id, peer.token)).status === 401, 5000),
    ).toBe(true);
    for (const m of METHODS) await expectCode(await send(m, peer.id, peer.token), 401, 'AUTH_EXPIRED');

    const issued = await sys.consoleCall('POST', `/v1/admin/peers/${peer.id}/credentials`, {});
    expect(issued.status).toBe(201);
    issuedTokens.push(issued.body.token);
    await waitUntilAccepted('bearer', peer.id, issued.body.token);
    const revoked = await sys.consoleCall(
      'DELETE',
      `/v1/admin/peers/${peer.id}/credentials/${issued.body.credentialId}`,
    );
    expect(revoked.body.state).toBe('revoked');
    // "At once": NOTIFY reaches the gateway within milliseconds; allow a short poll.
    expect(
      await eventually(
        async () => (await send('bearer', peer.id, issued.body.token)).status === 401,
        2000,
        20,
      ),
    ).toBe(true);
    for (const m of METHODS) await expectCode(await send(m, peer.id, issued.body.token), 401, 'AUTH_REVOKED');

    const audit = await sys.consoleGet(`/v1/admin/peers/${peer.id}/audit`);
    expect(audit.body.items.map((a: any) => a.action)).toEqual(
      expect.arrayContaining(['peer.created', 'credential.issued', 'credential.revoked']),
    );
  });

  it('an address outside the allowlist gets AUTH_IP_DENIED; inside it is accepted', async () => {
    const outside = await createPeer({ id: 'ip-outside', name: 'Outside', ipAllowlist: ['10.0.0.0/8'] });
    const inside = await createPeer({
      id: 'ip-inside',
      name: 'Inside',
      ipAllowlist: ['10.0.0.0/8', '127.0.0.1/32'],
    });
    await waitUntilAccepted('bearer', inside.id, inside.token);
    expect(
      await eventually(async () => (await send('bearer', outside.id, outside.token)).status === 403, 5000),
    ).toBe(true);
    for (const m of METHODS) {
      await expectCode(await send(m, outside.id, outside.token), 403, 'AUTH_IP_DENIED');
      expect((await send(m, inside.id, inside.token)).status).toBe(202);
    }
  });

  it('a peer without the scope gets AUTH_SCOPE_DENIED and nothing is published', async () => {
    const pbx = await createPeer({
      id: 'pbx-scoped',
      name: 'PBX',
      kind: 'telephony',
      scopes: ['telephony.*'],
    });
    expect(await eventually(async () => (await send('bearer', pbx.id, pbx.token)).status === 403, 5000)).toBe(
      true,
    );
    const depth = await sys.queueDepth(sys.queue('website-connector'));
    for (const m of METHODS) await expectCode(await send(m, pbx.id, pbx.token), 403, 'AUTH_SCOPE_DENIED');
    expect(await sys.queueDepth(sys.queue('website-connector'))).toBe(depth);
  });

  it('repeated failures from one address lock that address for the peer (even its valid credential), then it recovers', async () => {
    const peer = await createPeer({ id: 'locked', name: 'Locked' });
    // Waiting with Basic would count the misses (before NOTIFY arrives) against this peer; bearer misses count
    // against the unknown credential id instead.
    await waitUntilAccepted('bearer', peer.id, peer.token);
    for (let i = 0; i < LOCKOUT_FAILURES; i++)
      await expectCode(await send('basic', peer.id, 'guess'), 401, 'AUTH_INVALID');
    for (const m of METHODS) {
      const res = await send(m, peer.id, peer.token);
      await expectCode(res, 429, 'AUTH_LOCKED');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // An unknown peer id locks the same way (no enumeration through the lockout).
    for (let i = 0; i < LOCKOUT_FAILURES; i++) await send('basic', 'ghost-peer', 'guess');
    await expectCode(await send('basic', 'ghost-peer', 'guess'), 429, 'AUTH_LOCKED');

    await sleep(LOCKOUT_SECONDS * 1000 + 300);
    for (const m of METHODS) expect((await send(m, peer.id, peer.token)).status).toBe(202);
  });

  it('a peer over its quota gets RATE_LIMITED with Retry-After, however it presents its credential', async () => {
    const peer = await createPeer({ id: 'quota', name: 'Quota', rateLimitPerMinute: 5 });
    expect(await waitUntilAccepted('bearer', peer.id, peer.token)).toBe(true);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await send('bearer', peer.id, peer.token)).status);
    expect(statuses).toContain(429);
    for (const m of METHODS) {
      const res = await send(m, peer.id, peer.token);
      const body = await expectCode(res, 429, 'RATE_LIMITED');
      expect(body.detail).toMatch(/quota/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });

  describe('signed requests', () => {
    const secret = `whsec_${Buffer.from('generic-signing-secret-0123456789').toString('base64')}`;
    const signedPost = (peerId: string, body: string, id: string, ts: number, key = secret) =>
      fetch(`${sys.app('gateway').url}/v1/website/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-peer-id': peerId,
          'webhook-id': id,
          'webhook-timestamp': String(ts),
          'webhook-signature': signStandardWebhook(id, ts, body, key),
        },
        body,
      });

    it('Standard Webhooks: valid → 202; wrong key → AUTH_SIGNATURE_INVALID; same id again or an old timestamp → AUTH_REPLAYED', async () => {
      await createPeer({ id: 'signer', name: 'Signer', signingSecret: secret });
      const now = Math.floor(Date.now() / 1000);
      const body = JSON.stringify(order());
      expect(
        await eventually(
          async () => (await signedPost('signer', body, `msg_${Date.now()}`, now)).status === 202,
          5000,
        ),
      ).toBe(true);
      await expectCode(
        await signedPost('signer', body, 'msg_bad', now, 'whsec_d3Jvbmc='),
        401,
        'AUTH_SIGNATURE_INVALID',
      );
      await expectCode(await signedPost('nobody', body, 'msg_bad', now), 401, 'AUTH_SIGNATURE_INVALID');
      expect((await signedPost('signer', body, 'msg_once', now)).status).toBe(202);
      await expectCode(await signedPost('signer', body, 'msg_once', now), 401, 'AUTH_REPLAYED');
      await expectCode(await signedPost('signer', body, 'msg_old', now - 3600), 401, 'AUTH_REPLAYED');
    });

    it('WooCommerce: the real sample body signed with the shop secret → 202 and a deal event; tampered → refused; ping → 200', async () => {
      const wooSecret = 'woo-shop-secret-0123456789';
      await createPeer({ id: 'woo', name: 'Woo shop', provider: 'woocommerce', signingSecret: wooSecret });
      const raw = readFileSync(
        join(ROOT, 'test/fixtures/providers/website/woocommerce.order.created.json.txt'),
      );
      const url = `${sys.app('gateway').url}/v1/providers/woocommerce/woo`;
      const post = (body: Buffer | string, signature: string, topic = 'order.created') =>
        fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-wc-webhook-topic': topic,
            'x-wc-webhook-signature': signature,
          },
          body,
        });
      const depth = await sys.queueDepth(sys.queue('website-connector'));
      expect(
        await eventually(async () => (await post(raw, signWooCommerce(raw, wooSecret))).status === 202, 5000),
      ).toBe(true);
      expect(await sys.queueDepth(sys.queue('website-connector'))).toBe(depth + 1);

      const tampered = Buffer.from(raw.toString('utf8').replace('"total":', '"total": '));
      await expectCode(await post(tampered, signWooCommerce(raw, wooSecret)), 401, 'AUTH_SIGNATURE_INVALID');
      await expectCode(
        await post(raw, signWooCommerce(raw, 'another-secret')),
        401,
        'AUTH_SIGNATURE_INVALID',
      );
      // The generic peer is not a WooCommerce peer: same answer as an unknown one.
      const other = await fetch(`${sys.app('gateway').url}/v1/providers/woocommerce/${sys.peerId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-wc-webhook-signature': signWooCommerce(raw, wooSecret),
        },
        body: raw,
      });
      await expectCode(other, 401, 'AUTH_SIGNATURE_INVALID');
      expect(await sys.queueDepth(sys.queue('website-connector'))).toBe(depth + 1);

      const ping = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'webhook_id=17',
      });
      expect(ping.status).toBe(200);
    });
  });

  it('unhandled methods on peer routes answer 404/405 problem+json, never 2xx', async () => {
    const gw = sys.app('gateway').url;
    for (const method of ['HEAD', 'PUT', 'DELETE', 'PATCH', 'GET', 'OPTIONS']) {
      for (const path of ['/v1/website/orders', '/v1/credentials/rotate', '/v1/providers/woocommerce/woo']) {
        const res = await fetch(`${gw}${path}`, {
          method,
          headers: { authorization: `Bearer ${sys.peerKey}` },
        });
        // GET on a provider route is routed for handshakes only; unsigned it is refused.
        const allowed = path.startsWith('/v1/providers') && method === 'GET' ? [401] : [404, 405];
        expect({ method, path, ok: allowed.includes(res.status) }).toEqual({ method, path, ok: true });
      }
    }
  });

  it('the admin API validates input and reports conflicts and unknown peers', async () => {
    const bad = await sys.consoleCall('POST', '/v1/admin/peers', {
      name: 'x',
      kind: 'fridge',
      ipAllowlist: ['nope'],
      color: 1,
    });
    expect(bad.status).toBe(400);
    expect([...new Set(bad.body.errors.map((e: any) => e.field))].sort()).toEqual([
      'color',
      'ipAllowlist',
      'kind',
    ]);
    const dup = await sys.consoleCall('POST', '/v1/admin/peers', {
      id: sys.peerId,
      name: 'Again',
      kind: 'website',
    });
    expect(dup.status).toBe(409);
    expect((await sys.consoleGet('/v1/admin/peers/not-there')).status).toBe(404);
    const listed = await sys.consoleGet('/v1/admin/peers');
    expect(listed.body.items.map((p: any) => p.id)).toContain(sys.peerId);
    expect(JSON.stringify(listed.body)).not.toMatch(/sbp_|secret_hash|signing_secret"/);
  });

  it('secrets rewrap moves signing secrets to the newest master key; a gateway lacking a needed key does not start', async () => {
    const newKeys = `k2:${randomBytes(32).toString('base64')},${sys.masterKeys}`;
    const gatewayWith = (keys: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, 'dist/apps/gateway/src/main.js')], {
          env: {
            ...sys.env('gateway'),
            GATEWAY_PORT: '0',
            GATEWAY_METRICS_PORT: '0',
            SWITCHBOARD_MASTER_KEYS: keys,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        const timer = setTimeout(() => child.kill('SIGTERM'), 15_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
    const onlyNew = `k2:${newKeys.split(',')[0].slice(3)}`;
    const refused = await gatewayWith(onlyNew);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/master key\(s\) not in the keyring: k1/);

    const { execFile: run } = await import('node:child_process');
    const out = await new Promise<string>((resolve, reject) =>
      run(
        process.execPath,
        [join(ROOT, 'dist/apps/console/src/cli.js'), 'secrets', 'rewrap', '--json'],
        { env: { ...sys.env('console'), SWITCHBOARD_MASTER_KEYS: newKeys } },
        (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    expect(JSON.parse(out).rewrapped).toBeGreaterThanOrEqual(2);
    const rows = await sys.sql<{ signing_secret: string }>(
      `SELECT signing_secret FROM peers WHERE signing_secret IS NOT NULL`,
    );
    expect(rows.every((r) => r.signing_secret.startsWith('sb1.k2.'))).toBe(true);
    const audit = await sys.sql(`SELECT 1 FROM peer_audit WHERE action = 'secrets.rewrapped'`);
    expect(audit).toHaveLength(1);
  });

  it('a pg_dump after creating, rotating and setting signing secrets holds no secret in plaintext', async () => {
    const patched = await sys.consoleCall('PATCH', '/v1/admin/peers/signer', {
      signingSecret: 'rotated-signing-secret-xyz',
    });
    expect(patched.body).toMatchObject({ id: 'signer', hasSigningSecret: true });
    signingSecrets.push('rotated-signing-secret-xyz');
    const pgDump = ['/usr/lib/postgresql/15/bin/pg_dump', '/usr/bin/pg_dump'].find((p) => {
      try {
        readFileSync(p);
        return true;
      } catch {
        return false;
      }
    });
    expect(pgDump).toBeDefined();
    const dump = await new Promise<string>((resolve, reject) =>
      execFile(
        pgDump!,
        ['--data-only', sys.databaseUrl],
        { maxBuffer: 256 * 1024 * 1024 },
        (err, out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(out)),
      ),
    );
    expect(dump).toContain('peer_credentials'); // a dump of the right database
    expect(issuedTokens.length).toBeGreaterThan(10);
    for (const token of issuedTokens) {
      const secret = token.split('_')[2].slice(0, 32);
      expect(dump.includes(token) || dump.includes(secret)).toBe(false);
    }
    for (const s of signingSecrets) expect(dump.includes(s)).toBe(false);
    expect(dump).not.toContain(sys.pepper);
  });
});
