import { createHash, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessLogPartitions, AccessLogWriter, OutboundHttp } from '@switchboard/access-log';
import type { AppConfig } from '@switchboard/config';
import { Metrics } from '@switchboard/observability';
import { eventually, order, pool, TestSystem } from './support/system';

/**
 * Issue 4, the writer's side: one access_log row per gateway request (rejected ones included), nothing lost on
 * SIGTERM, partitions created / expired by maintenance, outbound calls recorded.
 */
const DAY = 86_400_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

type Row = Record<string, any>;

describe('interface access log: writer, gateway records, partitions', () => {
  const sys = new TestSystem('access-log-writer');

  beforeAll(async () => {
    await sys.start(['gateway', 'console']);
    // The console's first maintenance pass (at start) is done before the tests touch partitions.
    await eventually(async () => {
      const [{ n }] = await sys.sql<{ n: string }>(
        `SELECT count(*) n FROM access_log_audit WHERE actor = 'retention'`,
      );
      return Number(n) > 0;
    }, 30_000);
  });
  afterAll(() => sys.destroy());

  const gw = () => sys.app('gateway').url;

  async function rowsOf(correlationId: string): Promise<Row[]> {
    return sys.sql(
      `SELECT *, tableoid::regclass::text AS partition FROM access_log WHERE correlation_id = $1`,
      [correlationId],
    );
  }

  /**
   * The one row of a request. Waits for its flush, then for the row of a later request (a 404, recorded like any
   * other): rows are written in arrival order, so a second row of the first request would be there by then.
   */
  async function theRow(correlationId: string): Promise<Row> {
    await eventually(async () => (await rowsOf(correlationId)).length > 0, 10_000);
    const sentinel = `sentinel-${randomUUID()}`;
    await (await fetch(`${gw()}/v1/no-such-route`, { headers: { 'x-request-id': sentinel } })).arrayBuffer();
    await eventually(async () => (await rowsOf(sentinel)).length > 0, 10_000);
    const rows = await rowsOf(correlationId);
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  function noSecretIn(row: Row, token: string) {
    const text = JSON.stringify(row);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(17)); // the secret part
    expect(text).not.toContain('sbp_');
  }

  it('records each request once, accepted or rejected, with peer (or claimed peer), service, code, event id and body hash', async () => {
    const t0 = Date.now();
    const id = () => `al-${randomUUID()}`;
    const forged = `${sys.peerKey.slice(0, 20)}${sys.peerKey.slice(20).split('').reverse().join('')}`;

    // (1) accepted order
    const acceptedId = id();
    const orderBody = JSON.stringify(order());
    const accepted = await sys.post('/v1/website/orders', orderBody, { 'x-request-id': acceptedId });
    expect(accepted.status).toBe(202);
    const { eventId } = (await accepted.json()) as { eventId: string };

    // (2) AUTH_INVALID: a wrong secret under a real credential id (claim: that credential's peer), and a Basic
    // user naming a peer that does not exist (claim: that name)
    const invalidId = id();
    const invalidBody = JSON.stringify(order());
    const invalid = await sys.post('/v1/website/orders', invalidBody, {
      'x-request-id': invalidId,
      authorization: `Bearer ${forged}`,
    });
    expect(invalid.status).toBe(401);
    const basicId = id();
    const basic = await sys.post('/v1/website/orders', order(), {
      'x-request-id': basicId,
      authorization: `Basic ${Buffer.from(`no-such-peer:${forged}`).toString('base64')}`,
    });
    expect(basic.status).toBe(401);

    // (3) AUTH_MISSING: nothing presented
    const missingId = id();
    const missing = await fetch(`${gw()}/v1/website/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': missingId },
      body: '{}',
    });
    expect(missing.status).toBe(401);

    // (4) malformed body, with a valid credential (authentication never ran: the body failed first)
    const malformedId = id();
    const malformedBody = '{"externalId": "1001", ';
    const malformed = await sys.post('/v1/website/orders', malformedBody, { 'x-request-id': malformedId });
    expect(malformed.status).toBe(400);

    // (5) no such route; (6) unsupported media type; (7) health is not an interface call
    const notFoundId = id();
    const notFound = await fetch(`${gw()}/v1/no-such-route`, {
      headers: { 'x-request-id': notFoundId, authorization: `Bearer ${sys.peerKey}` },
    });
    expect(notFound.status).toBe(404);
    const textId = id();
    const text = await sys.post('/v1/website/orders', 'hello', {
      'x-request-id': textId,
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(415);
    const healthId = id();
    expect((await fetch(`${gw()}/health`, { headers: { 'x-request-id': healthId } })).status).toBe(200);

    const common = { direction: 'inbound', client_ip: '127.0.0.1' };
    const a = await theRow(acceptedId);
    expect(a).toMatchObject({
      ...common,
      peer_id: sys.peerId,
      claimed_peer_id: null,
      service: '/v1/website/orders',
      method: 'POST',
      result: 'accepted',
      http_status: 202,
      error_code: null,
      event_id: eventId,
      bytes_in: Buffer.byteLength(orderBody),
      body_hash: sha256(orderBody),
      body: null,
    });
    expect(a.bytes_out).toBe(Buffer.byteLength(JSON.stringify({ eventId })));
    expect(a.duration_ms).toBeGreaterThan(0);
    expect(a.started_at.getTime()).toBeGreaterThanOrEqual(t0 - 1000);
    expect(a.started_at.getTime()).toBeLessThanOrEqual(Date.now());
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(a.partition).toMatch(/^access_log_p\d{8}$/); // today's partition exists (console maintenance)

    const i = await theRow(invalidId);
    // Not authenticated: the peer it named is only a claim, kept apart from authenticated calls.
    expect(i).toMatchObject({
      ...common,
      peer_id: null,
      claimed_peer_id: sys.peerId,
      service: '/v1/website/orders',
      result: 'rejected',
      http_status: 401,
      error_code: 'AUTH_INVALID',
      event_id: null,
      body_hash: sha256(invalidBody),
    });
    noSecretIn(i, forged);
    expect(await theRow(basicId)).toMatchObject({
      peer_id: null,
      claimed_peer_id: 'no-such-peer',
      error_code: 'AUTH_INVALID',
    });

    expect(await theRow(missingId)).toMatchObject({
      ...common,
      peer_id: null,
      result: 'rejected',
      http_status: 401,
      error_code: 'AUTH_MISSING',
      body_hash: sha256('{}'),
    });
    expect(await theRow(malformedId)).toMatchObject({
      ...common,
      peer_id: null,
      claimed_peer_id: sys.peerId,
      result: 'rejected',
      http_status: 400,
      error_code: 'MALFORMED_BODY',
      event_id: null,
      bytes_in: Buffer.byteLength(malformedBody),
      body_hash: sha256(malformedBody),
    });
    expect(await theRow(notFoundId)).toMatchObject({
      ...common,
      peer_id: null,
      claimed_peer_id: sys.peerId,
      service: 'unmatched',
      method: 'GET',
      result: 'rejected',
      http_status: 404,
      error_code: 'NOT_FOUND',
      body_hash: null,
    });
    expect(await theRow(textId)).toMatchObject({ http_status: 415, error_code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await rowsOf(healthId)).toEqual([]);

    // No token, secret or token-shaped text anywhere in the log.
    const all = await sys.sql(`SELECT * FROM access_log`);
    for (const row of all) noSecretIn(row, sys.peerKey);
  });

  it('maintenance moves default-partition rows into a new day partition, and retention drops expired days only', async () => {
    const now = Date.now();
    const insert = (at: number, service: string) =>
      sys.sql(
        `INSERT INTO access_log (id, direction, service, method, started_at, duration_ms, result)
         VALUES (gen_random_uuid(), 'inbound', $2, 'POST', $1, 1, 'accepted')`,
        [new Date(at), service],
      );
    const partitionOf = async (service: string) =>
      (
        await sys.sql<{ p: string; n: string }>(
          `SELECT tableoid::regclass::text p, count(*) n FROM access_log WHERE service = $1 GROUP BY 1`,
          [service],
        )
      ).map((r) => `${r.p}:${r.n}`);

    // An old day without a partition yet: its rows land in the default partition.
    const old = new Date(now - 200 * DAY);
    const oldDay = old.toISOString().slice(0, 10).replace(/-/g, '');
    for (let k = 0; k < 3; k++) await insert(old.getTime() + k * 1000, 'old-day');
    expect(await partitionOf('old-day')).toEqual(['access_log_default:3']);

    // Maintenance as of that day creates its partitions and moves the rows in.
    const back = await sys.cli('access-log', 'maintain', '--now', old.toISOString());
    expect(back.created).toContain(`access_log_p${oldDay}`);
    expect(back.created).toHaveLength(9); // the day before .. 7 days ahead
    expect(await partitionOf('old-day')).toEqual([`access_log_p${oldDay}:3`]);
    await insert(old.getTime() + 2 * DAY, 'old-day-2');

    // Rows that must survive: today's partition, and a 30-day-old row in the default partition. One expired
    // row in the default partition goes.
    await insert(now - 60_000, 'recent');
    await insert(now - 30 * DAY, 'recent-default');
    await insert(now - 185 * DAY, 'expired-default');
    expect(await partitionOf('recent-default')).toEqual(['access_log_default:1']);
    expect(await partitionOf('expired-default')).toEqual(['access_log_default:1']);
    const recentBefore = await partitionOf('recent');

    // Maintenance as of a year ahead would delete every row: refused without --yes, nothing deleted.
    const future = new Date(now + 365 * DAY).toISOString();
    await expect(sys.cli('access-log', 'maintain', '--now', future)).rejects.toThrow(/in the future.*--yes/s);
    expect(await partitionOf('recent')).toEqual(recentBefore);
    expect(await partitionOf('expired-default')).toEqual(['access_log_default:1']);

    const result = await sys.cli('access-log', 'maintain');
    expect(result.dropped).toEqual(expect.arrayContaining(back.created));
    expect(result.deletedFromDefault).toBe(1);
    expect(await partitionOf('old-day')).toEqual([]);
    expect(await partitionOf('old-day-2')).toEqual([]);
    expect(await partitionOf('expired-default')).toEqual([]);
    expect(await partitionOf('recent')).toEqual(recentBefore);
    expect(await partitionOf('recent-default')).toEqual(['access_log_default:1']);

    const listed = (await sys.cli('access-log', 'partitions')).partitions as Array<{
      name: string;
      rows: number;
    }>;
    expect(listed.map((p) => p.name)).not.toContain(`access_log_p${oldDay}`);
    expect(listed.map((p) => p.name)).toContain('access_log_default');

    const [audit] = await sys.sql<Row>(
      `SELECT * FROM access_log_audit WHERE actor = 'retention' ORDER BY id DESC LIMIT 1`,
    );
    expect(audit).toMatchObject({ action: 'retention', rows_deleted: '5' });
    expect(audit.details.droppedPartitions).toEqual(expect.arrayContaining(back.created));
  });

  it('operator deletion drops whole days, deletes partial edges and default rows, and is audited', async () => {
    const partitions = new AccessLogPartitions({
      database: { url: sys.databaseUrl, poolSize: 1 },
      accessLog: { retentionDays: 180 },
    } as AppConfig);
    try {
      const base = Date.UTC(2025, 0, 10); // a past range with no partitions yet
      await partitions.ensure(new Date(base), new Date(base + 3 * DAY));
      const at = [
        base + 1000,
        base + 13 * 3600_000,
        base + DAY + 5,
        base + 2 * DAY + 7200_000,
        base + 3 * DAY + 5,
      ];
      for (const t of at) {
        await sys.sql(
          `INSERT INTO access_log (id, direction, service, method, started_at, duration_ms, result)
           VALUES (gen_random_uuid(), 'outbound', 'range-test', 'GET', $1, 1, 'accepted')`,
          [new Date(t)],
        );
      }
      // [Jan 10 12:00, Jan 12 03:00): part of the 10th, all of the 11th, part of the 12th.
      const from = new Date(base + 12 * 3600_000);
      const to = new Date(base + 2 * DAY + 3 * 3600_000);
      expect(await partitions.deleteRange(from, to, 'operator:test')).toBe(3);
      const left = await sys.sql<{ t: Date }>(
        `SELECT started_at t FROM access_log WHERE service = 'range-test' ORDER BY 1`,
      );
      expect(left.map((r) => r.t.getTime())).toEqual([at[0], at[4]]);
      const names = (await partitions.list()).map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['access_log_p20250110', 'access_log_p20250112']));
      expect(names).not.toContain('access_log_p20250111');
      const [audit] = await sys.sql<Row>(`SELECT * FROM access_log_audit WHERE actor = 'operator:test'`);
      expect(audit).toMatchObject({ action: 'delete', rows_deleted: '3' });
      expect(audit.range_from.getTime()).toBe(from.getTime());
      expect(audit.details.droppedPartitions).toEqual(['access_log_p20250111']);
    } finally {
      await partitions.close();
    }
  });

  it('records outbound calls made through OutboundHttp', async () => {
    const server: Server = createServer((_req, res) => res.writeHead(503, { 'content-length': '0' }).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const writer = new AccessLogWriter(
      {
        database: { url: sys.databaseUrl, poolSize: 1 },
        accessLog: { enabled: true, bodies: 'hash', flushIntervalMs: 50, batchSize: 100, maxBuffered: 1000 },
      } as AppConfig,
      new Metrics(),
    );
    try {
      const http = new OutboundHttp(writer);
      const res = await http.fetch(
        { service: 'test.outbound', peerId: 'crm-x' },
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/x?token=s3cr3t`,
        { method: 'PUT', body: 'abc' },
      );
      expect(res.status).toBe(503);
      await writer.flush();
      const rows = await sys.sql(`SELECT * FROM access_log WHERE service = 'test.outbound'`);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        direction: 'outbound',
        peer_id: 'crm-x',
        method: 'PUT',
        result: 'failed',
        http_status: 503,
        bytes_out: 3,
        bytes_in: 0,
        client_ip: null,
      });
      expect(JSON.stringify(rows[0])).not.toContain('s3cr3t');
    } finally {
      await writer.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('SIGTERM right after a burst: every request of the burst is in the log', async () => {
    // A long flush interval (and batches larger than the burst): only the shutdown flush can write them.
    await sys.app('gateway').kill('SIGTERM');
    const gateway = await sys.startApp('gateway', { ACCESS_LOG_FLUSH_INTERVAL_MS: '60000' });
    const N = 300;
    const statuses = await pool(N, 30, async (k) => {
      const headers = { 'x-request-id': `term-${k}` };
      const res =
        k % 3 === 0
          ? await fetch(`${gateway.url}/v1/website/orders`, { method: 'POST', headers, body: '' })
          : await sys.post('/v1/website/orders', order(), headers);
      await res.arrayBuffer();
      return res.status;
    });
    expect(statuses.filter((s) => s === 202)).toHaveLength(N - Math.ceil(N / 3));
    const count = async () =>
      Number(
        (
          await sys.sql<{ n: string }>(`SELECT count(*) n FROM access_log WHERE correlation_id LIKE 'term-%'`)
        )[0].n,
      );
    expect(await count()).toBe(0); // nothing flushed yet
    await gateway.kill('SIGTERM');
    expect({ exitCode: gateway.proc.exitCode, signal: gateway.proc.signalCode }).toEqual({
      exitCode: 0,
      signal: null,
    });
    expect(await count()).toBe(N);
    const [{ n }] = await sys.sql<{ n: string }>(
      `SELECT count(DISTINCT correlation_id) n FROM access_log WHERE correlation_id LIKE 'term-%'`,
    );
    expect(Number(n)).toBe(N);
  });
});
