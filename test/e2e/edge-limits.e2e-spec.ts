import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { order, TestSystem } from './support/system';

/** What a raw socket received and how long until the server closed it. */
function fateOf(socket: Socket): Promise<{ data: string; closedAfterMs: number }> {
  const started = Date.now();
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => undefined);
  return new Promise((resolve) =>
    socket.on('close', () => resolve({ data, closedAfterMs: Date.now() - started })),
  );
}

const LIMITS = {
  HTTP_HEADERS_TIMEOUT_MS: '1000',
  HTTP_REQUEST_TIMEOUT_MS: '2000',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
  HTTP_IDLE_TIMEOUT_MS: '1500',
  HTTP_MAX_CONNECTIONS_PER_SOURCE: '30',
};
/** Slack over a bound for a loaded 2-core machine (Node checks the timeouts on a timer too). */
const SLACK_MS = 1500;

/**
 * The HTTP edge under hostile clients (issue 12): slow heads and bodies, idle and piled-up connections get a
 * bounded answer on the gateway and the console; huge unknown-field bodies are refused fast with a small
 * problem; /metrics and health details are not on the public ports.
 */
describe('HTTP edge limits', () => {
  const sys = new TestSystem('edge-limits', LIMITS);
  const sockets: Socket[] = [];

  beforeAll(async () => {
    await sys.start(['gateway', 'console']);
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.destroy()));
  afterAll(() => sys.destroy());

  const open = (port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      sockets.push(socket);
      socket.on('error', reject);
    });

  describe.each(['gateway', 'console'] as const)('%s', (app) => {
    const port = () => sys.app(app).port;

    it('answers a head dripped a header at a time (slowloris) with 408 problem+json and closes', async () => {
      const socket = await open(port());
      const fate = fateOf(socket);
      socket.write('POST /v1/website/orders HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => socket.writable && socket.write('X-Drip: 1\r\n'), 200);
      const { data, closedAfterMs } = await fate;
      clearInterval(drip);
      expect(data).toMatch(/^HTTP\/1.1 408 /);
      expect(data).toContain('Content-Type: application/problem+json');
      expect(data).toContain('"code":"REQUEST_TIMEOUT"');
      expect(closedAfterMs).toBeLessThan(Number(LIMITS.HTTP_HEADERS_TIMEOUT_MS) + SLACK_MS);
    });

    it('answers a body sent byte by byte with 408 and closes', async () => {
      const socket = await open(port());
      const fate = fateOf(socket);
      socket.write(
        'POST /v1/website/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          `Authorization: Bearer ${sys.peerKey}\r\nContent-Length: 100000\r\n\r\n{"externalId":"`,
      );
      const drip = setInterval(() => socket.writable && socket.write('a'), 100);
      const { data, closedAfterMs } = await fate;
      clearInterval(drip);
      expect(data).toMatch(/^HTTP\/1.1 408 /);
      expect(data).toContain('"code":"REQUEST_TIMEOUT"');
      expect(closedAfterMs).toBeLessThan(Number(LIMITS.HTTP_REQUEST_TIMEOUT_MS) + SLACK_MS);
    });

    it('closes a connection that sends nothing', async () => {
      const { closedAfterMs } = await fateOf(await open(port()));
      expect(closedAfterMs).toBeLessThan(Number(LIMITS.HTTP_IDLE_TIMEOUT_MS) + SLACK_MS);
    });

    it('closes a kept-alive connection idle after its answer', async () => {
      const socket = await open(port());
      const fate = fateOf(socket);
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      const { data, closedAfterMs } = await fate;
      expect(data).toMatch(/^HTTP\/1.1 200 /);
      // Node adds a 1 s grace to the keep-alive timeout.
      expect(closedAfterMs).toBeLessThan(Number(LIMITS.HTTP_KEEP_ALIVE_TIMEOUT_MS) + 1000 + SLACK_MS);
    });

    it('refuses connections from one address over the limit with 429, and serves again after', async () => {
      const max = Number(LIMITS.HTTP_MAX_CONNECTIONS_PER_SOURCE);
      await Promise.all(Array.from({ length: max }, () => open(port())));
      const { data } = await fateOf(await open(port()));
      expect(data).toMatch(/^HTTP\/1.1 429 /);
      expect(data).toContain('"code":"TOO_MANY_CONNECTIONS"');
      sockets.splice(0).forEach((s) => s.destroy());
      let status = 0;
      for (const deadline = Date.now() + 5000; status !== 200 && Date.now() < deadline;) {
        status = await fetch(`${sys.app(app).url}/health`).then(
          (r) => r.status,
          () => 0,
        );
      }
      expect(status).toBe(200);
    });

    it('serves no /metrics and no health details on the public port', async () => {
      const metrics = await fetch(`${sys.app(app).url}/metrics`);
      expect(metrics.status).toBe(404);
      expect(await metrics.text()).not.toContain('nodejs_version_info');
      for (const path of ['/health', '/health/ready']) {
        const health = await fetch(`${sys.app(app).url}${path}`);
        expect(health.status).toBe(200);
        expect(await health.json()).toEqual({ status: 'ok' });
      }
    });

    it('serves /metrics and detailed health on its metrics listener, on loopback', async () => {
      const metrics = await fetch(`${sys.app(app).metricsUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('process_resident_memory_bytes');
      const health = (await (await fetch(`${sys.app(app).metricsUrl}/health`)).json()) as any;
      expect(health.status).toBe('ok');
      expect(Object.keys(health.details).length).toBeGreaterThan(0);
      // Bound to loopback: from this machine's own external address the public port answers, this one not.
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      // Without one, 127.0.0.2 is another address of this machine that a 127.0.0.1 listener does not hold.
      const other = external ?? '127.0.0.2';
      expect((await fetch(`http://${other}:${sys.app(app).port}/health`)).status).toBe(200);
      await expect(fetch(`http://${other}:${sys.app(app).metricsPort}/metrics`)).rejects.toThrow();
    });
  });

  it('refuses a 650 KB body of 60,000 unknown fields fast, with a small problem', async () => {
    const body: Record<string, unknown> = order();
    for (let i = 0; i < 60_000; i++) body[`f${i}`] = 1;
    const raw = JSON.stringify(body);
    expect(raw.length).toBeGreaterThan(600_000);
    const started = Date.now();
    const res = await sys.post('/v1/website/orders', raw);
    const elapsed = Date.now() - started;
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(text.length).toBeLessThan(2000);
    const problem = JSON.parse(text);
    expect(problem).toMatchObject({ code: 'VALIDATION_FAILED', errorCount: 1 });
    expect(problem.errors).toEqual([{ field: '', rule: 'maxFields', message: expect.any(String) }]);
    // Before the caps: 3.6 s of validation and a 5 MB answer.
    expect(elapsed).toBeLessThan(1500);
  });

  it('lists at most 20 field errors and how many there were', async () => {
    const body: Record<string, unknown> = order();
    for (let i = 0; i < 80; i++) body[`f${i}`] = 1;
    const problem = (await (await sys.post('/v1/website/orders', body)).json()) as any;
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors).toHaveLength(20);
    expect(problem.errorCount).toBe(80);
  });
});
