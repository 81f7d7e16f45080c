import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { crc32, signStandardWebhook, signWooCommerce } from '@switchboard/peer-auth';
import { eventually, order, ROOT, TestSystem } from './support/system';

/**
 * Issue 12 (red-team findings 1, 2, 5, 7, 9, 11): what a hostile caller who can only NAME a peer cannot do to
 * it. Other source addresses are other loopback addresses (127.0.0.0/8 all reach the apps on Linux).
 */
const LOCKOUT_FAILURES = 5;
const IP_LOCKOUT_FAILURES = 15;
const ROTATIONS_PER_HOUR = 3;
const ADMIN_LOCKOUT_FAILURES = 3;
const RETENTION_DAYS = 0.0001; // 8.6 s

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** One HTTP call from source address `from` (node:http binds the local address; fetch cannot). */
function call(
  from: string,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'POST', headers: opts.headers ?? {}, localAddress: from },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = null;
          try {
            body = JSON.parse(text);
          } catch {
            body = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const forge = (token: string) => `${token.slice(0, 20)}${token.slice(20).split('').reverse().join('')}`;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** A well-formed token (valid checksum) carrying `credentialId` and a wrong secret. */
function tokenFor(credentialId: string): string {
  const body = `sbp_${credentialId}_${'x'.repeat(32)}`;
  let n = crc32(body);
  let sum = '';
  for (let i = 0; i < 6; i++) {
    sum = BASE62[n % 62] + sum;
    n = Math.floor(n / 62);
  }
  return body + sum;
}

describe('a hostile caller naming a peer', () => {
  const sys = new TestSystem('peer-abuse', {
    PEER_LOCKOUT_MAX_FAILURES: String(LOCKOUT_FAILURES),
    PEER_LOCKOUT_IP_MAX_FAILURES: String(IP_LOCKOUT_FAILURES),
    PEER_LOCKOUT_BASE_SECONDS: '60',
    PEER_ROTATION_MAX_PER_HOUR: String(ROTATIONS_PER_HOUR),
    PEER_CREDENTIAL_RETENTION_DAYS: String(RETENTION_DAYS),
    PEER_EXPIRY_SWEEP_SECONDS: '1',
    CONSOLE_ADMIN_LOCKOUT_MAX_FAILURES: String(ADMIN_LOCKOUT_FAILURES),
    ALERTS_EVALUATE_INTERVAL_SECONDS: '3600',
    ALERTS_ERROR_RATE_PERCENT: '50',
    LOG_LEVEL: 'debug',
  });
  let waits = 0;

  beforeAll(async () => {
    await sys.start(['gateway', 'console']);
  });
  afterAll(() => sys.destroy());

  const gw = (path: string) => `${sys.app('gateway').url}${path}`;
  const orderBody = () => JSON.stringify(order());
  const json = { 'content-type': 'application/json' };

  async function createPeer(fields: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const res = await sys.consoleCall('POST', '/v1/admin/peers', {
      kind: 'website',
      scopes: ['website.*'],
      ...fields,
    });
    expect(res.status).toBe(201);
    return { id: res.body.peer.id, token: res.body.credential.token };
  }

  /** Waits until the gateway knows `token`, polling from an address of its own (its misses lock nothing here). */
  async function waitForToken(token: string): Promise<void> {
    const from = `127.0.1.${++waits}`;
    const ok = await eventually(
      async () =>
        (
          await call(from, gw('/v1/website/orders'), {
            headers: { ...json, authorization: `Bearer ${token}` },
            body: orderBody(),
          })
        ).status === 202,
      10_000,
    );
    expect(ok).toBe(true);
  }

  const bearer = (from: string, token: string) =>
    call(from, gw('/v1/website/orders'), {
      headers: { ...json, authorization: `Bearer ${token}` },
      body: orderBody(),
    });

  describe('cannot lock it out (finding 1)', () => {
    const secret = `whsec_${Buffer.from('abuse-signing-secret-0123456789').toString('base64')}`;
    const wooSecret = 'woo-abuse-secret-0123456789';
    const wooBody = readFileSync(
      join(ROOT, 'test/fixtures/providers/website/woocommerce.order.created.json.txt'),
    );
    let seq = 0;
    const signed = (from: string, peerId: string, key: string) => {
      const id = `msg_${Date.now()}_${++seq}`;
      const ts = Math.floor(Date.now() / 1000);
      const body = orderBody();
      return call(from, gw('/v1/website/orders'), {
        headers: {
          ...json,
          'x-peer-id': peerId,
          'webhook-id': id,
          'webhook-timestamp': String(ts),
          'webhook-signature': signStandardWebhook(id, ts, body, key),
        },
        body,
      });
    };
    const woo = (from: string, peerId: string, key: string) =>
      call(from, gw(`/v1/providers/woocommerce/${peerId}`), {
        headers: {
          ...json,
          'x-wc-webhook-topic': 'order.created',
          'x-wc-webhook-signature': signWooCommerce(wooBody, key),
        },
        body: wooBody,
      });

    it('many bad requests naming a peer every way, from other addresses, leave its valid credentials working', async () => {
      const peer = await createPeer({ id: 'victim', name: 'Victim' });
      const signer = await createPeer({ id: 'victim-signer', name: 'Signer', signingSecret: secret });
      const shop = await createPeer({
        id: 'victim-woo',
        name: 'Woo',
        provider: 'woocommerce',
        signingSecret: wooSecret,
      });
      await waitForToken(peer.token);
      await waitForToken(signer.token);
      await waitForToken(shop.token);
      const credentialId = peer.token.split('_')[1];
      const attacks: Array<[string, (from: string) => Promise<Answer>]> = [
        [
          'basic user',
          (from) =>
            call(from, gw('/v1/website/orders'), {
              headers: { ...json, authorization: basic(peer.id, forge(peer.token)) },
              body: orderBody(),
            }),
        ],
        [
          'login field',
          (from) =>
            call(from, gw('/v1/website/orders'), {
              headers: json,
              body: JSON.stringify({ ...order(), login: peer.id, password: forge(peer.token) }),
            }),
        ],
        [
          'credential id inside a malformed token',
          (from) => bearer(from, `sbp_${credentialId}_${'x'.repeat(38)}`),
        ],
        ['credential id inside a well-formed token', (from) => bearer(from, tokenFor(credentialId))],
        ['X-Peer-Id with a bad signature', (from) => signed(from, signer.id, 'whsec_d3Jvbmc=')],
        ['provider route :peerId with a bad signature', (from) => woo(from, shop.id, 'not-the-secret')],
      ];
      for (const [i, [way, attack]] of attacks.entries()) {
        const from = `127.0.0.${10 + i}`;
        const codes: string[] = [];
        for (let n = 0; n < LOCKOUT_FAILURES * 3; n++) codes.push((await attack(from)).body?.code);
        // The attacker's own address is locked out for this peer: guessing stops at LOCKOUT_FAILURES.
        expect({ way, last: codes.at(-1) }).toEqual({ way, last: 'AUTH_LOCKED' });
        // The holder of the genuine secret still gets through, from its own address and from a new one.
        for (const holder of ['127.0.0.1', '127.0.0.99']) {
          const answers = [
            await bearer(holder, peer.token),
            await call(holder, gw('/v1/website/orders'), {
              headers: { ...json, authorization: basic(peer.id, peer.token) },
              body: orderBody(),
            }),
            await call(holder, gw('/v1/website/orders'), {
              headers: json,
              body: JSON.stringify({ ...order(), login: peer.id, password: peer.token }),
            }),
            await signed(holder, signer.id, secret),
            await woo(holder, shop.id, wooSecret),
          ];
          expect({ way, holder, statuses: answers.map((a) => a.status) }).toEqual({
            way,
            holder,
            statuses: [202, 202, 202, 202, 202],
          });
        }
      }
      // Elsewhere, a failing guess naming the peer is told it is locked (soft lock: no answer to learn from) …
      const guess = await call('127.0.0.98', gw('/v1/website/orders'), {
        headers: { ...json, authorization: basic(peer.id, forge(peer.token)) },
        body: orderBody(),
      });
      expect({ status: guess.status, code: guess.body.code }).toEqual({ status: 429, code: 'AUTH_LOCKED' });
      expect(Number(guess.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // … while the genuine credential from that same address passes.
      expect((await bearer('127.0.0.98', peer.token)).status).toBe(202);
    });

    it('an address spraying many peer ids is locked as a whole, others are not', async () => {
      const peer = await createPeer({ id: 'bystander', name: 'Bystander' });
      await waitForToken(peer.token);
      const from = '127.0.0.40';
      let last = '';
      for (let n = 0; n < IP_LOCKOUT_FAILURES + 2; n++) {
        const res = await call(from, gw('/v1/website/orders'), {
          headers: { ...json, authorization: basic(`ghost-${n}`, forge(peer.token)) },
          body: orderBody(),
        });
        last = res.body.code;
      }
      expect(last).toBe('AUTH_LOCKED');
      expect((await bearer(from, peer.token)).body.code).toBe('AUTH_LOCKED');
      expect((await bearer('127.0.0.41', peer.token)).status).toBe(202);
    });
  });

  describe('signed messages refused for quota can be retried (finding 5)', () => {
    const secret = `whsec_${Buffer.from('quota-signing-secret-0123456789').toString('base64')}`;

    it('the same webhook-id is accepted after a 429, and only once', async () => {
      const peer = await createPeer({
        id: 'quota-signer',
        name: 'Quota',
        signingSecret: secret,
        rateLimitPerMinute: 20,
      });
      await waitForToken(peer.token);
      const send = (id: string, ts: number, body: string) =>
        call('127.0.0.1', gw('/v1/website/orders'), {
          headers: {
            ...json,
            'x-peer-id': peer.id,
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': signStandardWebhook(id, ts, body, secret),
          },
          body,
        });
      // Spend the quota (the wait above took some) until a signed message is refused with 429.
      let refused: { id: string; ts: number; body: string } | null = null;
      const answers: string[] = [];
      for (let n = 0; n < 30 && !refused; n++) {
        const m = { id: `msg_quota_${n}`, ts: Math.floor(Date.now() / 1000), body: orderBody() };
        const res = await send(m.id, m.ts, m.body);
        answers.push(`${res.status} ${res.status === 429 ? res.body.code : ''}`.trim());
        if (res.status === 429) refused = m;
      }
      // Accepted until the quota ran out, then refused as rate-limited.
      expect(answers.slice(0, -1).filter((a) => a !== '202')).toEqual([]);
      expect(answers.at(-1)).toBe('429 RATE_LIMITED');
      expect(refused).not.toBeNull();
      const retried = await eventually(
        async () => {
          const res = await send(refused!.id, refused!.ts, refused!.body);
          expect(res.body?.code).not.toBe('AUTH_REPLAYED');
          return res.status === 202;
        },
        15_000,
        500,
      );
      expect(retried).toBe(true);
      // Accepted now: the same message again is a replay.
      const again = await send(refused!.id, refused!.ts, refused!.body);
      expect({ status: again.status, code: again.body.code }).toEqual({ status: 401, code: 'AUTH_REPLAYED' });
    });
  });

  describe('credential rotation (finding 2)', () => {
    const rotate = (token: string, from = '127.0.0.1') =>
      call(from, gw('/v1/credentials/rotate'), { headers: { authorization: `Bearer ${token}` } });

    it("a retiring (rotated-away) credential cannot retire the operator's newer one", async () => {
      const peer = await createPeer({ id: 'rotated', name: 'Rotated' });
      await waitForToken(peer.token);
      const issued = await sys.consoleCall('POST', `/v1/admin/peers/${peer.id}/credentials`, {});
      expect(issued.status).toBe(201);
      await waitForToken(issued.body.token);
      // The leaked old token tries to rotate: refused, and the operator's credential stays active.
      const hijack = await rotate(peer.token);
      expect({ status: hijack.status, code: hijack.body.code }).toEqual({ status: 409, code: 'CONFLICT' });
      const shown = await sys.consoleGet(`/v1/admin/peers/${peer.id}`);
      const states = Object.fromEntries(shown.body.credentials.map((c: any) => [c.id, c.state]));
      expect(states).toEqual({
        [issued.body.credentialId]: 'active',
        [peer.token.split('_')[1]]: 'retiring',
      });
      expect((await bearer('127.0.0.1', issued.body.token)).status).toBe(202);
      // The rotation answer is a token: never cached, never sniffed.
      const own = await rotate(issued.body.token);
      expect(own.status).toBe(201);
      expect(own.headers['cache-control']).toBe('no-store');
      expect(own.headers['x-content-type-options']).toBe('nosniff');
    });

    it('after a suspected leak the operator revokes the old credentials at once (revokeOld / --revoke-old)', async () => {
      const peer = await createPeer({ id: 'leaked', name: 'Leaked' });
      await waitForToken(peer.token);
      const issued = await sys.consoleCall('POST', `/v1/admin/peers/${peer.id}/credentials`, {
        revokeOld: true,
      });
      expect(issued.status).toBe(201);
      expect(issued.body.previous).toEqual([]);
      await waitForToken(issued.body.token);
      const old = await bearer('127.0.0.1', peer.token);
      expect({ status: old.status, code: old.body.code }).toEqual({ status: 401, code: 'AUTH_REVOKED' });
      const cli = await sys.cli('peers', 'rotate', peer.id, '--revoke-old');
      await waitForToken(cli.token);
      const previous = await bearer('127.0.0.1', issued.body.token);
      expect(previous.body.code).toBe('AUTH_REVOKED');
      const audit = await sys.consoleGet(`/v1/admin/peers/${peer.id}/audit`);
      expect(
        audit.body.items
          .filter((a: any) => a.action === 'credential.revoked')
          .map((a: any) => a.details.reason),
      ).toEqual(['rotation', 'rotation']);
    });

    it("a peer's own rotations are rate-limited and audited; dead credential rows are purged after retention", async () => {
      const peer = await createPeer({ id: 'churner', name: 'Churner' });
      await waitForToken(peer.token);
      let token = peer.token;
      for (let n = 0; n < ROTATIONS_PER_HOUR; n++) {
        const res = await rotate(token);
        expect(res.status).toBe(201);
        token = res.body.token;
      }
      const limited = await rotate(token);
      expect({ status: limited.status, code: limited.body.code }).toEqual({
        status: 429,
        code: 'RATE_LIMITED',
      });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(60);
      const audit = await sys.consoleGet(`/v1/admin/peers/${peer.id}/audit`);
      expect(audit.body.items.filter((a: any) => a.action === 'credential.rotated')).toHaveLength(
        ROTATIONS_PER_HOUR,
      );
      // … and raise an alert for operators (the peer's, or a leaked credential's holder's doing?).
      const round = await sys.consoleCall('POST', '/v1/admin/alerts/evaluate');
      expect(round.body.ran).toBe(true);
      const alerts = await sys.consoleGet('/v1/admin/alerts');
      expect(
        alerts.body.items.filter((a: any) => a.rule === 'credentialRotated' && a.subject === peer.id),
      ).toEqual([
        expect.objectContaining({ status: 'firing', details: expect.objectContaining({ rotations: 3 }) }),
      ]);
      // Rotated-away credentials retire (overlap), then their rows go once the retention period has passed.
      await sys.sql(
        `UPDATE peer_credentials SET retires_at = now() WHERE peer_id = $1 AND retires_at IS NOT NULL`,
        [peer.id],
      );
      const purged = await eventually(
        async () =>
          (await sys.sql(`SELECT id FROM peer_credentials WHERE peer_id = $1`, [peer.id])).length === 1,
        30_000,
        500,
      );
      expect(purged).toBe(true);
      const after = await sys.consoleGet(`/v1/admin/peers/${peer.id}/audit`);
      expect(after.body.items.map((a: any) => a.action)).toContain('credential.purged');
      expect((await bearer('127.0.0.1', token)).status).toBe(202);
    });
  });

  describe('the access log keeps claimed and authenticated peers apart (finding 7)', () => {
    it('anonymous requests naming a peer neither count as its calls nor fire its error-rate alert', async () => {
      const peer = await createPeer({
        id: 'spoofed',
        name: 'Spoofed',
        provider: 'woocommerce',
        signingSecret: 's3cret-0123456789',
      });
      await waitForToken(peer.token);
      for (let n = 0; n < 24; n++) {
        // Refused before authentication (not JSON): logged under the peer id the route names.
        const res = await call('127.0.0.60', gw(`/v1/providers/woocommerce/${peer.id}`), {
          headers: { 'content-type': 'application/json' },
          body: '{"broken',
        });
        expect(res.status).toBeGreaterThanOrEqual(400);
      }
      expect((await bearer('127.0.0.1', peer.token)).status).toBe(202);
      const claimed = await eventually(async () => {
        const r = await sys.consoleGet(`/v1/admin/access-log?claimedPeer=${peer.id}`);
        return r.body.items.length >= 24 ? r.body.items : null;
      }, 10_000);
      expect(claimed).toBeTruthy();
      expect(claimed.every((i: any) => i.peerId === null && i.claimedPeerId === peer.id)).toBe(true);
      const own = await sys.consoleGet(`/v1/admin/access-log?peer=${peer.id}`);
      expect(own.body.items.length).toBeGreaterThanOrEqual(1);
      expect(own.body.items.every((i: any) => i.peerId === peer.id && i.claimedPeerId === null)).toBe(true);
      expect(own.body.items.every((i: any) => i.result === 'accepted')).toBe(true);

      const round = await sys.consoleCall('POST', '/v1/admin/alerts/evaluate');
      expect(round.body.ran).toBe(true);
      const alerts = await sys.consoleGet('/v1/admin/alerts');
      expect(alerts.body.items.filter((a: any) => a.rule === 'errorRate' && a.subject === peer.id)).toEqual(
        [],
      );
    });
  });

  describe('the console (finding 9)', () => {
    const consoleCall = (from: string, path: string, token: string) =>
      call(from, `${sys.app('console').url}${path}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
      });

    it('locks out an address guessing the admin token, not the operator elsewhere; records failed logins and CRM reads', async () => {
      const from = '127.0.0.70';
      const codes: string[] = [];
      for (let n = 0; n < ADMIN_LOCKOUT_FAILURES + 1; n++)
        codes.push((await consoleCall(from, '/v1/crm/contacts', `guess-${n}-0123456789abcdef`)).body.code);
      expect(codes.at(-1)).toBe('AUTH_LOCKED');
      const locked = await consoleCall(from, '/v1/crm/contacts', sys.adminToken);
      expect({ status: locked.status, code: locked.body.code }).toEqual({ status: 429, code: 'AUTH_LOCKED' });
      expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);

      const read = await consoleCall('127.0.0.1', '/v1/crm/contacts', sys.adminToken);
      expect(read.status).toBe(200);
      expect(read.headers['x-content-type-options']).toBe('nosniff');
      expect(read.headers['cache-control']).toBe('no-store');
      const peers = await consoleCall('127.0.0.1', '/v1/admin/peers', sys.adminToken);
      expect(peers.headers['cache-control']).toBe('no-store');

      const rows = await eventually(async () => {
        const r = await sys.sql<{ client_ip: string; error_code: string | null; http_status: number }>(
          `SELECT host(client_ip) AS client_ip, error_code, http_status FROM access_log
            WHERE service = 'console /v1/crm/contacts'`,
        );
        return r.length >= ADMIN_LOCKOUT_FAILURES + 3 ? r : null;
      }, 10_000);
      expect(rows).toBeTruthy();
      const fromAttacker = rows!.filter((r) => r.client_ip === from).map((r) => r.error_code);
      expect(fromAttacker.filter((c) => c === 'AUTH_INVALID')).toHaveLength(ADMIN_LOCKOUT_FAILURES);
      expect(fromAttacker).toContain('AUTH_LOCKED');
      expect(rows!.some((r) => r.client_ip === '127.0.0.1' && r.http_status === 200)).toBe(true);
    });
  });

  describe('credentials in the URL (finding 11)', () => {
    it('are refused unless the peer allows them, and never reach a log', async () => {
      const strict = await createPeer({ id: 'url-strict', name: 'Strict' });
      const legacy = await createPeer({ id: 'url-legacy', name: 'Legacy', allowUrlCredentials: true });
      await waitForToken(strict.token);
      await waitForToken(legacy.token);
      const viaQuery = (peer: { id: string; token: string }, how: 'access_token' | 'login') => {
        const url = new URL(gw('/v1/website/orders'));
        if (how === 'access_token') url.searchParams.set('access_token', peer.token);
        else {
          url.searchParams.set('login', peer.id);
          url.searchParams.set('password', peer.token);
        }
        return call('127.0.0.1', url.toString(), { headers: json, body: orderBody() });
      };
      for (const how of ['access_token', 'login'] as const) {
        const refused = await viaQuery(strict, how);
        expect({ how, status: refused.status, code: refused.body.code }).toEqual({
          how,
          status: 401,
          code: 'AUTH_URL_CREDENTIALS_DISABLED',
        });
        expect(refused.text).not.toContain(strict.token);
        expect((await viaQuery(legacy, how)).status).toBe(202);
      }
      // A peer can be switched either way.
      const patched = await sys.consoleCall('PATCH', `/v1/admin/peers/${legacy.id}`, {
        allowUrlCredentials: false,
      });
      expect(patched.body.allowUrlCredentials).toBe(false);
      expect(
        await eventually(async () => (await viaQuery(legacy, 'access_token')).status === 401, 5000),
      ).toBe(true);

      // Nothing of either token in the access log or the apps' logs.
      await eventually(
        async () =>
          (await sys.sql(`SELECT 1 FROM access_log WHERE claimed_peer_id = $1 OR peer_id = $1`, [strict.id]))
            .length >= 2,
        10_000,
      );
      const rows = await sys.sql<{ row: string }>(`SELECT a::text AS row FROM access_log a`);
      for (const token of [strict.token, legacy.token]) {
        const secret = token.split('_')[2];
        expect(rows.some((r) => r.row.includes(secret))).toBe(false);
        for (const app of ['gateway', 'console']) {
          const log = readFileSync(join(ROOT, '.data/test-logs', `peer-abuse-${app}.log`), 'utf8');
          expect(log.includes(secret)).toBe(false);
        }
      }
    });
  });
});
