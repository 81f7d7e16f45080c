import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Correlation } from '@switchboard/observability';
import type { AccessLogWriter, NewAccessRecord } from './access-log.writer';
import { OutboundHttp, OutboundTimeoutError } from './outbound-http';

describe('OutboundHttp', () => {
  let server: Server;
  let base: string;
  const records: NewAccessRecord[] = [];
  const http = new OutboundHttp({
    record: (r: NewAccessRecord) => records.push(r),
  } as unknown as AccessLogWriter);

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/slow')) return void setTimeout(() => res.end('late'), 2_000).unref();
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const status = req.url?.startsWith('/missing') ? 404 : req.url?.startsWith('/busy') ? 429 : 200;
        const out = JSON.stringify({ got: body.length });
        res
          .writeHead(status, {
            'content-type': 'application/json',
            'content-length': out.length,
            'retry-after': '7',
          })
          .end(out);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  beforeEach(() => (records.length = 0));

  it('records an accepted outbound call: operation, method, status, duration, bytes, correlation id', async () => {
    const res = await Correlation.run({ correlationId: 'corr-1' }, () =>
      http.fetch({ service: 'alerts.webhook', peerId: 'crm-1' }, `${base}/hook?secret=s3cr3t`, {
        method: 'post',
        body: '{"a":1}',
        headers: { authorization: 'Bearer hidden' },
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: 7 });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      direction: 'outbound',
      service: 'alerts.webhook',
      peerId: 'crm-1',
      method: 'POST',
      result: 'accepted',
      httpStatus: 200,
      errorCode: null,
      bytesOut: 7,
      bytesIn: 9,
      correlationId: 'corr-1',
      clientIp: null,
    });
    expect(records[0].durationMs).toBeGreaterThan(0);
    // No URL, credentials, query or headers anywhere in the record.
    expect(JSON.stringify(records[0])).not.toMatch(/127\.0\.0\.1|s3cr3t|hidden|\/hook/);
  });

  it('records a 4xx answer as rejected', async () => {
    const res = await http.fetch({ service: 'crm.lookup' }, `${base}/missing`);
    expect(res.status).toBe(404);
    expect(records[0]).toMatchObject({ result: 'rejected', httpStatus: 404, method: 'GET', peerId: null });
  });

  it('a URL with credentials is refused by fetch; the error does not repeat the URL', async () => {
    const err = await http.fetch({ service: 'creds' }, `http://user:pass@127.0.0.1:1/`).catch((e) => e);
    expect(err.message).toBe('outbound creds failed: TypeError');
    expect(records[0]).toMatchObject({ result: 'failed', errorCode: 'OUTBOUND_UNREACHABLE' });
  });

  it('a timeout fails with OUTBOUND_TIMEOUT (and an error that names the operation, not the URL)', async () => {
    const err = await http.fetch({ service: 'slow.op' }, `${base}/slow`, { timeoutMs: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundTimeoutError);
    expect(err.message).toBe('outbound slow.op timed out after 100 ms');
    expect(records[0]).toMatchObject({ result: 'failed', httpStatus: null, errorCode: 'OUTBOUND_TIMEOUT' });
  });

  it('an unreachable peer fails with OUTBOUND_UNREACHABLE', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(http.fetch({ service: 'gone' }, `http://127.0.0.1:${port}/`)).rejects.toThrow(
      'outbound gone failed: ECONNREFUSED',
    );
    expect(records[0]).toMatchObject({ result: 'failed', errorCode: 'OUTBOUND_UNREACHABLE', bytesIn: null });
  });

  describe('post() (node:http with keep-alive, for webhook deliveries)', () => {
    it('answers the status and headers, and records the call like fetch() does', async () => {
      const res = await http.post(
        { service: 'outbound.webhook', peerId: 'shop', eventId: 'e1' },
        `${base}/busy`,
        {
          headers: { 'content-type': 'application/json' },
          body: '{"a":1}',
        },
      );
      expect([res.status, res.header('Retry-After'), res.header('x-none')]).toEqual([429, '7', null]);
      expect(records).toEqual([
        expect.objectContaining({
          direction: 'outbound',
          service: 'outbound.webhook',
          peerId: 'shop',
          eventId: 'e1',
          method: 'POST',
          httpStatus: 429,
          bytesOut: 7,
          bytesIn: 9,
          errorCode: null,
        }),
      ]);
    });

    it('times out with OUTBOUND_TIMEOUT and fails on a refused port with OUTBOUND_UNREACHABLE', async () => {
      const slow = await http
        .post({ service: 'slow.op' }, `${base}/slow`, { headers: {}, body: 'x', timeoutMs: 100 })
        .catch((e) => e);
      expect(slow).toBeInstanceOf(OutboundTimeoutError);
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((r) => closed.close(r));
      await expect(
        http.post({ service: 'gone' }, `http://127.0.0.1:${port}/`, { headers: {}, body: 'x' }),
      ).rejects.toThrow('outbound gone failed: ECONNREFUSED');
      expect(records.map((r) => r.errorCode)).toEqual(['OUTBOUND_TIMEOUT', 'OUTBOUND_UNREACHABLE']);
    });
  });
});
