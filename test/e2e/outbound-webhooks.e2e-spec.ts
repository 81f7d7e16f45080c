import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { eventually, freePort, order, sleep, TestSystem } from './support/system';

/**
 * Issue 16 acceptance for apps/outbound: CRM deal status changes reach the site as Standard Webhooks signed POSTs;
 * the fake site is a real HTTP server that checks each signature with the specification's algorithm.
 */
interface Received {
  id: string;
  timestamp: number;
  at: number;
  verified: boolean;
  body: { type: string; timestamp: string; data: Record<string, any> };
}

/** The Standard Webhooks check, written out: HMAC-SHA256 keyed with base64(secret without whsec_). */
function verify(secret: string, id: string, ts: string, body: string, header: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  return header.split(' ').some((s) => {
    const [v, mac] = s.split(',');
    const got = Buffer.from(mac ?? '', 'base64');
    return v === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

class FakeSite {
  readonly received: Received[] = [];
  /** Orders (externalId) whose callbacks the site refuses with 422. */
  readonly refuse = new Set<string>();
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(readonly secret: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/switchboard`;
  }

  async up(): Promise<void> {
    if (!this.port) this.port = await freePort();
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }

  /** Refuses connections from now on (the port is closed). */
  async down(): Promise<void> {
    if (!this.server) return;
    const closed = new Promise((r) => this.server?.close(r));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const h = (n: string) => String(req.headers[n] ?? '');
    const verified = verify(
      this.secret,
      h('webhook-id'),
      h('webhook-timestamp'),
      raw,
      h('webhook-signature'),
    );
    const body = JSON.parse(raw) as Received['body'];
    this.received.push({
      id: h('webhook-id'),
      timestamp: Number(h('webhook-timestamp')),
      at: Date.now(),
      verified,
      body,
    });
    const refused = this.refuse.has(body.data.externalId as string);
    res.writeHead(!verified ? 401 : refused ? 422 : 204).end();
  }

  of(externalId: string): Received[] {
    return this.received.filter((r) => r.body.data.externalId === externalId);
  }
}

describe('outbound webhooks (apps/outbound)', () => {
  const sys = new TestSystem('outbound-webhooks', {
    OUTBOUND_POLL_INTERVAL_MS: '50',
    OUTBOUND_RETRY_BASE_MS: '200',
    OUTBOUND_RETRY_MAX_MS: '2000',
    OUTBOUND_BREAKER_FAILURES: '3',
    OUTBOUND_BREAKER_COOLDOWN_MS: '1000',
    OUTBOUND_REQUEST_TIMEOUT_MS: '2000',
  });
  const site = new FakeSite(`whsec_${randomBytes(32).toString('base64')}`);
  let version = Date.parse('2026-11-20T10:00:00Z');
  const later = () => new Date((version += 60_000)).toISOString();

  beforeAll(async () => {
    await site.up();
    await sys.start(['gateway', 'website-connector', 'console', 'outbound']);
    const set = await sys.consoleCall('PATCH', `/v1/admin/peers/${sys.peerId}`, {
      outbound: { url: site.url, secret: site.secret, eventTypes: ['crm.deal.status_changed'] },
    });
    expect(set.status).toBe(200);
    expect(set.body.outbound).toMatchObject({
      url: site.url,
      eventTypes: ['crm.deal.status_changed'],
      state: 'active',
    });
    expect(JSON.stringify(set.body)).not.toContain(site.secret.slice(6));
  });
  afterAll(async () => {
    await sys.destroy();
    await site.down().catch(() => undefined);
  });

  /** Posts an order version and waits until the deal holds that status. */
  async function orderWith(o: Record<string, unknown>, status: string): Promise<string> {
    const updatedAt = later();
    const res = await sys.post('/v1/website/orders', { ...o, status, updatedAt });
    expect(res.status).toBe(202);
    const [deal] = await eventually(async () => {
      const rows = await sys.sql<{ id: string }>(
        `SELECT id FROM deals WHERE external_id = $1 AND status = $2`,
        [o.externalId, status],
      );
      return rows.length ? rows : null;
    });
    return deal.id;
  }

  const delivery = (externalId: string, status: string) =>
    sys.sql<{ id: string; status: string; attempts: number; last_http_status: number | null }>(
      `SELECT d.id, d.status, d.attempts, d.last_http_status FROM outbound_deliveries d
        WHERE d.body::jsonb -> 'data' ->> 'externalId' = $1 AND d.body::jsonb -> 'data' ->> 'status' = $2`,
      [externalId, status],
    );

  it('refuses an endpoint without a whsec_ secret or with a bad one (400, nothing stored)', async () => {
    await sys.cli('peers', 'create', '--id', 'other-shop', '--name', 'Other', '--kind', 'website');
    for (const outbound of [
      { url: site.url, eventTypes: ['crm.deal.status_changed'] },
      { url: site.url, secret: 'not-a-secret', eventTypes: ['crm.deal.status_changed'] },
      { url: 'ftp://x', secret: site.secret, eventTypes: ['crm.deal.status_changed'] },
      { url: site.url, secret: site.secret, eventTypes: ['crm.deal.deleted'] },
    ]) {
      const r = await sys.consoleCall('PATCH', '/v1/admin/peers/other-shop', { outbound });
      expect([r.status, r.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    expect(await sys.sql(`SELECT 1 FROM outbound_endpoints WHERE peer_id = 'other-shop'`)).toHaveLength(0);
  });

  it('a deal status change -> exactly one correctly signed callback within 2 s, logged as an outbound call', async () => {
    const o = order();
    const dealId = await orderWith(o, 'new');
    await orderWith(o, 'processing');
    const [change] = await sys.sql<{ ms: number }>(
      `SELECT extract(epoch FROM created_at) * 1000 AS ms FROM crm_changes WHERE deal_id = $1 ORDER BY seq DESC LIMIT 1`,
      [dealId],
    );
    const [cb] = await eventually(
      async () => (site.of(o.externalId as string).length ? site.of(o.externalId as string) : null),
      5000,
    );
    expect(cb.verified).toBe(true);
    expect(cb.at - Number(change.ms)).toBeLessThanOrEqual(2000);
    expect(cb.body).toMatchObject({
      type: 'crm.deal.status_changed',
      data: { dealId, siteOrderId: o.externalId, status: 'processing', previousStatus: 'new' },
    });
    expect(cb.body.data.contactId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(cb.timestamp * 1000 - cb.at)).toBeLessThan(5000);

    const [d] = await eventually(async () => {
      const rows = await delivery(o.externalId as string, 'processing');
      return rows[0]?.status === 'delivered' ? rows : null;
    });
    expect(d).toMatchObject({ attempts: 1, last_http_status: 204 });
    expect(cb.id).toBe(d.id);
    expect(site.of(o.externalId as string)).toHaveLength(1);
    // The creation itself (no previous status) announced nothing; one change, one delivery.
    expect(await sys.sql(`SELECT 1 FROM crm_changes WHERE deal_id = $1`, [dealId])).toHaveLength(1);
    const logged = await eventually(async () => {
      const rows = await sys.sql<{ direction: string; http_status: number; result: string }>(
        `SELECT direction, http_status, result FROM access_log WHERE service = 'outbound.webhook' AND event_id = $1`,
        [d.id],
      );
      return rows.length ? rows : null;
    });
    expect(logged).toEqual([{ direction: 'outbound', http_status: 204, result: 'accepted' }]);
  });

  it('site down for 30 s -> delivered afterwards in order; a superseded change is never sent', async () => {
    const customer = { name: 'Olga', phone: '+79161234500', email: `olga${Date.now()}@example.com` };
    const a = order({ customer });
    const b = order({ customer });
    await orderWith(a, 'new');
    await orderWith(b, 'new');
    await site.down();
    const downAt = Date.now();

    await orderWith(a, 'processing');
    // A's change is being retried against the closed port...
    await eventually(
      async () => ((await delivery(a.externalId as string, 'processing'))[0]?.attempts ?? 0) >= 2,
      15_000,
    );
    // ...and B's changes wait behind it (same contact): the later replaces the earlier before it is ever sent.
    await orderWith(b, 'processing');
    await orderWith(b, 'shipped');
    const [superseded] = await eventually(async () => {
      const rows = await delivery(b.externalId as string, 'processing');
      return rows[0]?.status === 'superseded' ? rows : null;
    });
    expect(superseded.attempts).toBe(0);
    const attempts = await eventually(async () => {
      const rows = await sys.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM access_log WHERE service = 'outbound.webhook' AND result = 'failed'
           AND error_code = 'OUTBOUND_UNREACHABLE'`,
      );
      return rows[0].n >= 2 ? rows[0].n : null;
    });
    expect(attempts).toBeGreaterThanOrEqual(2);

    await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
    expect(site.of(a.externalId as string)).toHaveLength(0);
    await site.up();
    const upAt = Date.now();

    await eventually(async () => site.of(b.externalId as string).length > 0, 20_000);
    const seen = site.received.filter((r) => [a.externalId, b.externalId].includes(r.body.data.externalId));
    expect(seen.map((r) => [r.body.data.externalId, r.body.data.status])).toEqual([
      [a.externalId, 'processing'],
      [b.externalId, 'shipped'],
    ]);
    expect(seen.every((r) => r.verified && r.at >= upAt)).toBe(true);
    // The site has answered; the outcome is recorded right after.
    await eventually(
      async () => (await delivery(b.externalId as string, 'shipped'))[0]?.status === 'delivered',
    );
    expect((await delivery(a.externalId as string, 'processing'))[0].status).toBe('delivered');
    expect(site.of(b.externalId as string)).toHaveLength(1);
    // The failures did not last a day: the endpoint is active, and its breaker closed on the first success.
    const [endpoint] = await sys.sql<{ state: string; consecutive_failures: number }>(
      `SELECT state, consecutive_failures FROM outbound_endpoints WHERE peer_id = $1`,
      [sys.peerId],
    );
    expect(endpoint).toEqual({ state: 'active', consecutive_failures: 0 });
  }, 120_000);

  it('a 4xx answer -> a visible permanent failure, replayable through the console API', async () => {
    const o = order();
    await orderWith(o, 'new');
    site.refuse.add(o.externalId as string);
    await orderWith(o, 'cancelled');
    const failed = await eventually(async () => {
      const r = await sys.consoleGet(`/v1/admin/outbound/deliveries?status=failed&peerId=${sys.peerId}`);
      return r.body.items.find((d: any) => site.of(o.externalId as string).some((x) => x.id === d.id));
    });
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastHttpStatus: 422,
      lastErrorCode: 'OUTBOUND_REJECTED',
    });
    expect(site.of(o.externalId as string)).toHaveLength(1);
    const shown = await sys.consoleGet(`/v1/admin/outbound/deliveries/${failed.id}`);
    expect(shown.body.body).toMatchObject({ type: 'crm.deal.status_changed', data: { status: 'cancelled' } });

    site.refuse.delete(o.externalId as string);
    const replay = await sys.consoleCall('POST', `/v1/admin/outbound/deliveries/${failed.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ id: failed.id, status: 'pending' });
    await eventually(async () => site.of(o.externalId as string).length === 2);
    const [first, again] = site.of(o.externalId as string);
    expect(again.id).toBe(first.id);
    expect(again.verified).toBe(true);
    const done = await eventually(async () => {
      const r = await sys.consoleGet(`/v1/admin/outbound/deliveries/${failed.id}`);
      return r.body.status === 'delivered' ? r.body : null;
    });
    expect(done).toMatchObject({ attempts: 2, lastHttpStatus: 204 });

    const twice = await sys.consoleCall('POST', `/v1/admin/outbound/deliveries/${failed.id}/replay`);
    expect([twice.status, twice.body.code]).toEqual([409, 'CONFLICT']);
    const bad = await sys.consoleGet('/v1/admin/outbound/deliveries?status=lost');
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const none = await sys.consoleGet('/v1/admin/outbound/deliveries/not-an-id');
    expect([none.status, none.body.code]).toEqual([404, 'NOT_FOUND']);
  });
  it("an operator's edit of a card and a manual discount reach the site, signed, in order", async () => {
    const set = await sys.consoleCall('PATCH', `/v1/admin/peers/${sys.peerId}`, {
      outbound: {
        url: site.url,
        secret: site.secret,
        eventTypes: ['crm.deal.status_changed', 'crm.contact.updated', 'crm.contact.discount_changed'],
      },
    });
    expect(set.status).toBe(200);
    const o = order();
    const dealId = await orderWith(o, 'new');
    const [{ contact_id: contactId }] = await sys.sql<{ contact_id: string }>(
      `SELECT contact_id FROM deals WHERE id = $1`,
      [dealId],
    );
    const edited = await sys.consoleCall('PATCH', `/v1/crm/contacts/${contactId}`, {
      name: 'Renamed By Operator',
    });
    expect(edited.status).toBe(200);
    const discounted = await sys.consoleCall('PUT', `/v1/crm/contacts/${contactId}/discount`, { percent: 7 });
    expect(discounted.status).toBe(200);

    const mine = () => site.received.filter((r) => r.body.data.contactId === contactId);
    const got = await eventually(async () => (mine().length >= 2 ? mine() : null));
    expect(got.map((r) => r.body.type)).toEqual(['crm.contact.updated', 'crm.contact.discount_changed']);
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got[0].body.data).toMatchObject({ contactId, name: 'Renamed By Operator' });
    expect(got[1].body.data).toMatchObject({ contactId, discount: { percent: 7, source: 'manual' } });
  });
});
