import { Body, Controller, Get, Logger, Module, Param, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect, type Socket } from 'node:net';
import { createHttpApp } from './bootstrap';

@Controller('v1')
class EchoController {
  @Get('things/:id')
  get(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Post('things')
  echo(@Body() body: unknown): unknown {
    return body;
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

/** Sends raw bytes and collects everything until the server closes or answers a complete response. */
function rawRequest(port: number, request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const finish = (): void => {
      socket.destroy();
      const [head, body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), head: head.toLowerCase(), body });
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const m = /content-length: (\d+)/i.exec(data);
      const end = data.indexOf('\r\n\r\n');
      if (m && end >= 0 && Buffer.byteLength(data.slice(end + 4)) >= Number(m[1])) finish();
    });
    socket.on('end', finish);
    socket.on('error', reject);
    socket.setTimeout(3000, () => reject(new Error(`no answer; got ${JSON.stringify(data)}`)));
    socket.write(request);
  });
}

describe('createHttpApp: errors outside Nest are problem+json', () => {
  let app: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    app = await createHttpApp(EchoModule, { logger: new Logger('test') });
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });

  afterAll(async () => {
    await app.close();
  });

  const expectProblem = (
    res: { status: number; head: string; body: string },
    status: number,
    code: string,
  ): void => {
    expect(res.status).toBe(status);
    expect(res.head).toContain('content-type: application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status, code });
  };

  it('still serves a normal request', async () => {
    const res = await rawRequest(port, 'GET /v1/things/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ id: 'abc' });
  });

  it('answers an unsupported Expect with 417', async () => {
    const res = await rawRequest(
      port,
      'POST /v1/things/abc HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n',
    );
    expectProblem(res, 417, 'MALFORMED_BODY');
    expect(res.head).toContain('connection: close');
  });

  it('answers a bad percent-escape in the path with 404', async () => {
    const res = await rawRequest(
      port,
      'GET /v1/things/ab%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expectProblem(res, 404, 'NOT_FOUND');
    expect(res.head).toContain('x-request-id:');
  });

  it('answers an over-long path parameter with 404', async () => {
    const res = await rawRequest(
      port,
      `GET /v1/things/${'a'.repeat(101)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expectProblem(res, 404, 'NOT_FOUND');
  });

  it('answers CONNECT with 405 instead of dropping the socket', async () => {
    const res = await rawRequest(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.head).toContain('allow:');
  });
});

/** A raw socket's fate: what it received and how long until the server closed it. */
function watch(socket: Socket): Promise<{ data: string; closedAfterMs: number }> {
  const started = Date.now();
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ data, closedAfterMs: Date.now() - started }));
  });
}

const open = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });

describe('createHttpApp: time and connection limits', () => {
  let app: NestFastifyApplication;
  let port: number;
  const sockets: Socket[] = [];
  const limits = {
    headersTimeoutMs: 600,
    requestTimeoutMs: 1000,
    keepAliveTimeoutMs: 500,
    idleTimeoutMs: 800,
    maxConnectionsPerSource: 5,
  };

  beforeAll(async () => {
    app = await createHttpApp(EchoModule, { logger: new Logger('test'), limits });
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.destroy()));
  afterAll(async () => {
    await app.close();
  });

  const track = async (): Promise<Socket> => {
    const s = await open(port);
    sockets.push(s);
    return s;
  };

  it('answers a head dripped byte by byte (slowloris) with 408 problem+json and closes the socket', async () => {
    const socket = await track();
    const fate = watch(socket);
    const drip = setInterval(() => socket.writable && socket.write('X-A: b\r\n'), 100);
    socket.write('GET /v1/things/abc HTTP/1.1\r\nHost: x\r\n');
    const { data, closedAfterMs } = await fate;
    clearInterval(drip);
    expect(data).toMatch(/^HTTP\/1.1 408 /);
    expect(data).toContain('application/problem+json');
    expect(data).toContain('"code":"REQUEST_TIMEOUT"');
    expect(closedAfterMs).toBeLessThan(limits.headersTimeoutMs + 1000);
  });

  it('answers a body sent too slowly with 408 and closes the socket', async () => {
    const socket = await track();
    const fate = watch(socket);
    socket.write(
      'POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":"',
    );
    const drip = setInterval(() => socket.writable && socket.write('a'), 100);
    const { data, closedAfterMs } = await fate;
    clearInterval(drip);
    expect(data).toMatch(/^HTTP\/1.1 408 /);
    expect(data).toContain('"code":"REQUEST_TIMEOUT"');
    expect(closedAfterMs).toBeLessThan(limits.requestTimeoutMs + 1000);
  });

  it('closes a connection that never sends anything', async () => {
    const { closedAfterMs } = await watch(await track());
    expect(closedAfterMs).toBeLessThan(limits.idleTimeoutMs + 1000);
  });

  it('closes a kept-alive connection idle after its request', async () => {
    const socket = await track();
    const fate = watch(socket);
    socket.write('GET /v1/things/abc HTTP/1.1\r\nHost: x\r\n\r\n');
    const { data, closedAfterMs } = await fate;
    expect(data).toMatch(/^HTTP\/1.1 200 /);
    // Node adds a 1 s grace to keepAliveTimeout on the socket.
    expect(closedAfterMs).toBeLessThan(limits.keepAliveTimeoutMs + 2000);
  });

  it('refuses connections over the per-source limit with 429 and serves again once they close', async () => {
    const held = await Promise.all(Array.from({ length: limits.maxConnectionsPerSource }, () => track()));
    const extra = await track();
    const { data } = await watch(extra);
    expect(data).toMatch(/^HTTP\/1.1 429 /);
    expect(data).toContain('"code":"TOO_MANY_CONNECTIONS"');
    held.forEach((s) => s.destroy());
    await new Promise((r) => setTimeout(r, 100));
    const res = await rawRequest(port, 'GET /v1/things/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
  });
});
