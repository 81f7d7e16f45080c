import { Controller, Get, Logger, Module, Param } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect } from 'node:net';
import { createHttpApp } from './bootstrap';

@Controller('v1')
class EchoController {
  @Get('things/:id')
  get(@Param('id') id: string): { id: string } {
    return { id };
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
