import { INestApplication, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { correlationIdFrom } from '@switchboard/observability';
import { CorrelationInterceptor } from './correlation.interceptor';
import { ErrorCode } from '@switchboard/contracts';
import { problem } from './problem';
import { ProblemFilter, sendProblem } from './problem.filter';

export interface HttpAppOptions {
  logger: LoggerService;
  bodyLimitBytes?: number;
  /** Keep the raw request bytes as `req.rawBody` (signature checks). */
  rawBody?: boolean;
  /**
   * Which proxies' X-Forwarded-* headers to believe (Fastify's trustProxy): '' trusts none, so the client
   * address an IP allowlist sees cannot be forged; 'true', a hop count, or comma-separated addresses/CIDRs.
   */
  trustProxy?: string;
}

function trustProxyOption(value = ''): boolean | number | string {
  const v = value.trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

/**
 * Every app serves HTTP the same way: Fastify, correlation ids from `X-Request-Id`, problem+json for every
 * error (including Fastify's own body-parser errors, which happen before Nest sees the request).
 */
export async function createHttpApp(
  module: Type<unknown>,
  opts: HttpAppOptions,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: opts.bodyLimitBytes ?? 1_048_576,
    trustProxy: trustProxyOption(opts.trustProxy),
    // HEAD is not a peer operation; without this Fastify would answer HEAD on every GET route.
    exposeHeadRoutes: false,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      correlationIdFrom(req.headers['x-request-id'] ?? req.headers['x-correlation-id']),
    // Peers send the same path with and without a trailing slash.
    routerOptions: { ignoreTrailingSlash: true },
    // Our own 503 while closing (below), as problem+json; requests already in flight finish normally.
    return503OnClosing: false,
    // Requests Node's HTTP parser rejects (invented methods, broken framing) never reach a route.
    clientErrorHandler: (_err, socket) => {
      const body = JSON.stringify(problem(ErrorCode.MALFORMED_BODY, 'The HTTP request could not be parsed.'));
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
    },
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onSend', async (req, reply) => {
    void reply.header('X-Request-Id', String(req.id));
  });
  let closing = false;
  fastify.addHook('preClose', async () => {
    closing = true;
  });
  fastify.addHook('onRequest', async (req, reply) => {
    if (!closing) return;
    void reply.header('Connection', 'close');
    sendProblem(reply, problem(ErrorCode.SHUTTING_DOWN, undefined, { instance: req.url.split('?')[0] }));
    return reply;
  });
  // Only JSON is a body here; text/plain would otherwise arrive as a string and blur the error.
  fastify.removeContentTypeParser('text/plain');

  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: opts.logger,
    bufferLogs: true,
    rawBody: opts.rawBody ?? false,
  });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalInterceptors(new CorrelationInterceptor());
  app.enableShutdownHooks();
  return app;
}

export async function listen(app: INestApplication, port: number, host: string): Promise<string> {
  await app.listen(port, host);
  return app.getUrl();
}
