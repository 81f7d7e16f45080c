import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { verifyStandardWebhookSignature } from '@switchboard/peer-auth';
import { eventually, freePort, TestSystem } from './support/system';

/**
 * Issue 4 acceptance (alerts): 20 failed authentications of one peer raise exactly one alert at a local webhook
 * sink (signed per Standard Webhooks), and exactly one 'resolved' once the window has passed; a sink answering
 * 500 gets the same notification again next round, and exactly once after it recovers.
 */
const WINDOW_MINUTES = 0.2; // 12 s: failures age out of the authFailures window quickly
const THRESHOLD = 20;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Delivery {
  id: string;
  verified: boolean;
  type: string;
  alert: { id: string; rule: string; subject: string; status: string; summary: string };
  answered: number;
}

describe('alerts', () => {
  let sys: TestSystem;
  let sink: Server;
  let sinkStatus = 200;
  const deliveries: Delivery[] = [];

  beforeAll(async () => {
    const port = await freePort();
    sink = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
        );
        const verdict = verifyStandardWebhookSignature(
          { method: req.method ?? 'POST', url: req.url ?? '/', headers, rawBody },
          SECRET,
        );
        const body = JSON.parse(rawBody.toString()) as { type: string; alert: Delivery['alert'] };
        deliveries.push({
          id: headers['webhook-id'],
          verified: verdict.ok,
          type: body.type,
          alert: body.alert,
          answered: sinkStatus,
        });
        res.writeHead(sinkStatus).end();
      });
    });
    await new Promise<void>((r) => sink.listen(port, '127.0.0.1', r));
    sys = new TestSystem('alerts', {
      ALERTS_EVALUATE_INTERVAL_SECONDS: '1',
      ALERTS_AUTH_FAILURE_THRESHOLD: String(THRESHOLD),
      ALERTS_AUTH_FAILURE_WINDOW_MINUTES: String(WINDOW_MINUTES),
      ALERTS_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/alerts`,
      ALERTS_WEBHOOK_SECRET: SECRET,
    });
    await sys.start(['gateway', 'console']);
  });

  afterAll(async () => {
    await sys?.destroy();
    await new Promise((r) => sink?.close(r));
  });

  const of = (peerId: string, type?: string) =>
    deliveries.filter(
      (d) => d.alert.rule === 'authFailures' && d.alert.subject === peerId && (!type || d.type === type),
    );

  /**
   * Runs `n` evaluation rounds now, one after another (each waits for a round in progress and delivers its
   * notifications before answering), so "nothing more was sent" is checked after rounds that really ran.
   */
  async function evaluateRounds(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const round = await sys.consoleCall('POST', '/v1/admin/alerts/evaluate');
      expect({ status: round.status, ran: round.body.ran }).toEqual({ status: 200, ran: true });
    }
  }

  /** `n` requests presenting a forged credential for `peerId` (HTTP Basic: the peer id is claimed). */
  async function failAuthentications(peerId: string, token: string, n: number): Promise<void> {
    const forged = `${token.slice(0, 20)}${token.slice(20).split('').reverse().join('')}`;
    const authorization = `Basic ${Buffer.from(`${peerId}:${forged}`).toString('base64')}`;
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${sys.app('gateway').url}/v1/website/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: '{}',
      });
      const body = (await res.json()) as { code: string };
      // Per-peer lockout turns AUTH_INVALID into AUTH_LOCKED after a few failures: both are AUTH_*.
      expect(body.code).toMatch(/^AUTH_/);
    }
    await ensureLogged(peerId, n);
  }

  /** The gateway records each failed authentication in access_log, claimed_peer_id = the claimed id. */
  async function ensureLogged(peerId: string, n: number): Promise<void> {
    const count = async () =>
      Number(
        (
          await sys.sql<{ n: string }>(
            `SELECT count(*) AS n FROM access_log
              WHERE claimed_peer_id = $1 AND direction = 'inbound' AND error_code LIKE 'AUTH\\_%'
                AND started_at > now() - interval '1 minute'`,
            [peerId],
          )
        )[0].n,
      );
    expect(await eventually(async () => (await count()) >= n, 5000)).toBe(true);
  }

  it('20 failed authentications of one peer raise exactly one alert, then exactly one resolved', async () => {
    const startedAt = Date.now();
    await failAuthentications(sys.peerId, sys.peerKey, THRESHOLD);

    expect(await eventually(async () => of(sys.peerId, 'alert.firing').length > 0, 15_000)).toBe(true);
    // More rounds while the condition still holds: no second notification.
    await evaluateRounds(3);
    expect(of(sys.peerId)).toHaveLength(1);
    const [firing] = of(sys.peerId);
    expect(firing).toMatchObject({
      verified: true,
      type: 'alert.firing',
      alert: { rule: 'authFailures', subject: sys.peerId, status: 'firing' },
    });
    expect(firing.id).toBe(`${firing.alert.id}:firing`);
    expect(firing.alert.summary).toContain(`peer ${sys.peerId}`);

    const listed = await sys.consoleGet('/v1/admin/alerts?status=firing&rule=authFailures');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((a: any) => [a.id, a.subject, a.status])).toEqual([
      [firing.alert.id, sys.peerId, 'firing'],
    ]);
    expect(listed.body.items[0].firedNotifiedAt).not.toBeNull();

    // The failures age out of the window: exactly one 'resolved', and nothing after it.
    expect(
      await eventually(
        async () => of(sys.peerId, 'alert.resolved').length > 0,
        WINDOW_MINUTES * 60_000 + 15_000,
      ),
    ).toBe(true);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(WINDOW_MINUTES * 60_000 - 1000);
    await evaluateRounds(3);
    expect(of(sys.peerId).map((d) => [d.type, d.alert.id, d.verified])).toEqual([
      ['alert.firing', firing.alert.id, true],
      ['alert.resolved', firing.alert.id, true],
    ]);
    const resolved = of(sys.peerId, 'alert.resolved')[0];
    expect(resolved.id).toBe(`${firing.alert.id}:resolved`);
    expect(resolved.alert).toMatchObject({ status: 'resolved', resolvedAt: expect.any(String) });

    const after = await sys.consoleGet(`/v1/admin/alerts?rule=authFailures`);
    expect(after.body.items.filter((a: any) => a.subject === sys.peerId)).toEqual([
      expect.objectContaining({
        id: firing.alert.id,
        status: 'resolved',
        resolvedNotifiedAt: expect.any(String),
      }),
    ]);
  });

  it('a sink answering 500 gets the same notification next round, and exactly once after it recovers', async () => {
    const created = await sys.consoleCall('POST', '/v1/admin/peers', {
      id: 'alerts-flaky',
      name: 'Flaky sink test',
      kind: 'website',
      scopes: ['website.*'],
    });
    expect(created.status).toBe(201);
    sinkStatus = 500;
    await failAuthentications('alerts-flaky', created.body.credential.token as string, THRESHOLD);

    // Refused every round, so offered again every round, always as the same message.
    expect(await eventually(async () => of('alerts-flaky').length >= 3, 15_000)).toBe(true);
    const refused = of('alerts-flaky');
    expect(new Set(refused.map((d) => `${d.type} ${d.id} ${d.answered}`))).toEqual(
      new Set([`alert.firing ${refused[0].alert.id}:firing 500`]),
    );
    const [row] = await sys.sql<{ fired_notified_at: Date | null }>(
      `SELECT fired_notified_at FROM alerts WHERE rule = 'authFailures' AND subject = 'alerts-flaky'`,
    );
    expect(row.fired_notified_at).toBeNull();

    sinkStatus = 200;
    expect(await eventually(async () => of('alerts-flaky').some((d) => d.answered === 200), 10_000)).toBe(
      true,
    );
    await evaluateRounds(3);
    const accepted = of('alerts-flaky').filter((d) => d.answered === 200);
    expect(accepted.map((d) => [d.type, d.id, d.verified])).toEqual([
      ['alert.firing', `${refused[0].alert.id}:firing`, true],
    ]);

    // Every delivery attempt is an outbound interface call in the access log.
    const outbound = async () =>
      sys.sql<{ http_status: number; result: string }>(
        `SELECT http_status, result FROM access_log
          WHERE direction = 'outbound' AND service = 'alerts.webhook' AND http_status IN (200, 500)`,
      );
    expect(
      await eventually(async () => {
        const rows = await outbound();
        return rows.some((r) => r.http_status === 500) && rows.some((r) => r.http_status === 200);
      }, 5000),
    ).toBe(true);
    expect(new Set((await outbound()).map((r) => `${r.http_status} ${r.result}`))).toEqual(
      new Set(['500 failed', '200 accepted']),
    );

    // On-demand round: nothing new while the condition still holds.
    const round = await sys.consoleCall('POST', '/v1/admin/alerts/evaluate');
    expect(round.status).toBe(200);
    expect(round.body).toMatchObject({ ran: true, fired: [], skipped: [] });
  });

  it('the alerts API is admin-only and checks its query', async () => {
    const anon = await fetch(`${sys.app('console').url}/v1/admin/alerts`);
    expect(anon.status).toBe(401);
    const bad = await sys.consoleGet('/v1/admin/alerts?status=open');
    expect(bad.status).toBe(400);
    const limited = await sys.consoleGet('/v1/admin/alerts?limit=1');
    expect(limited.status).toBe(200);
    expect(limited.body.items).toHaveLength(1);
  });

  it('one evaluator at a time: while another session holds the alerts lock, a round does not run', async () => {
    // The test's own session plays another console replica (ALERTS_LOCK in alert-evaluator.ts).
    await sys.sql('SELECT pg_advisory_lock(7263104002)');
    try {
      const round = await sys.consoleCall('POST', '/v1/admin/alerts/evaluate');
      expect(round.body).toMatchObject({ ran: false });
    } finally {
      await sys.sql('SELECT pg_advisory_unlock(7263104002)');
    }
    expect((await sys.consoleCall('POST', '/v1/admin/alerts/evaluate')).body).toMatchObject({ ran: true });
  });
});
