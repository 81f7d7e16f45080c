import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { INestApplication, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Correlation, correlationIdFrom, type CorrelationContext } from '@switchboard/observability';
import { ErrorCode } from '@switchboard/contracts';
import { problem, ProblemDetails } from './problem';
import { ProblemFilter, sendProblem, toProblem } from './problem.filter';
import { recordRoutes } from './openapi/route-table';

/** A whole HTTP/1.1 problem+json response for answers written straight to the socket (Node-level errors). */
function rawProblem(details: ProblemDetails, reason: string, headers = ''): string {
  const body = JSON.stringify(details);
  return (
    `HTTP/1.1 ${details.status} ${reason}\r\nContent-Type: application/problem+json\r\n${headers}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's correlation context, from its preHandler on (null before: 404s, bad bodies, ...). */
    correlation: CorrelationContext | null;
  }
}

/** Time and connection bounds of a listener (config section `http`); absent: Node's and Fastify's defaults. */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0: no limit. */
  maxConnectionsPerSource: number;
}

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
  limits?: HttpLimits;
  /** Serve HTTPS with this certificate and key (PEM files, re-read on SIGHUP); absent or empty: HTTP. */
  tls?: { certFile: string; keyFile: string };
}

function readTls(tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
}

/** What the log says of a certificate: enough to tell which one is served, nothing secret. */
function describeCertificate(cert: Buffer): string {
  const x509 = new X509Certificate(cert);
  return `${x509.subject.replace(/\n/g, ', ')} (serial ${x509.serialNumber}, valid to ${x509.validTo})`;
}

/** Signals that stop the app; SIGHUP is not one of them when it reloads the certificate. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'];

/**
 * SIGHUP re-reads the certificate and key and gives them to the listening server: connections made from then on
 * get the new certificate, open ones keep theirs, and the listener never closes. A pair that does not load (a
 * half-copied file, a key that does not match) is refused and the current one kept: the log says why.
 */
function reloadTlsOnSighup(
  server: HttpsServer,
  tls: { certFile: string; keyFile: string },
  logger: LoggerService,
) {
  process.on('SIGHUP', () => {
    try {
      const pair = readTls(tls);
      server.setSecureContext(pair);
      logger.log(`SIGHUP: now serving certificate ${describeCertificate(pair.cert)}`, 'Tls');
    } catch (err) {
      logger.error(
        `SIGHUP: certificate not reloaded, the current one stays: ${(err as Error).message}`,
        undefined,
        'Tls',
      );
    }
  });
}

function timeoutOptions(limits: HttpLimits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
  };
}

/**
 * Parse errors and timeouts Node reports for a connection. A timed-out request gets 408 REQUEST_TIMEOUT
 * (unless part of a response was already written: then the socket is just closed); anything else 400.
 * The socket is destroyed once the answer is flushed, so a client still dripping bytes cannot keep it.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const answer =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? rawProblem(
          problem(ErrorCode.REQUEST_TIMEOUT, 'The request head or body did not arrive in time.'),
          'Request Timeout',
        )
      : rawProblem(problem(ErrorCode.MALFORMED_BODY, 'The HTTP request could not be parsed.'), 'Bad Request');
  socket.end(answer, () => socket.destroy());
}

/**
 * At most `max` open connections per client address: a further one is answered 429 TOO_MANY_CONNECTIONS and
 * closed before anything of it is parsed. Counted on the socket address (a trusted proxy's own address when
 * behind one; raise or disable the limit there).
 */
function limitConnectionsPerSource(server: Server, max: number): void {
  const open = new Map<string, number>();
  // Node's own connection listener (which starts parsing) must not see a refused socket: it is wrapped.
  const handlers = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const source = socket.remoteAddress ?? '';
    const count = (open.get(source) ?? 0) + 1;
    if (count > max) {
      socket.on('error', () => socket.destroy());
      socket.end(
        rawProblem(
          problem(ErrorCode.TOO_MANY_CONNECTIONS, `At most ${max} open connections per client address.`),
          'Too Many Requests',
          'Retry-After: 1\r\n',
        ),
        () => socket.destroy(),
      );
      return;
    }
    open.set(source, count);
    socket.once('close', () => {
      const left = (open.get(source) ?? 1) - 1;
      if (left > 0) open.set(source, left);
      else open.delete(source);
    });
    for (const handler of handlers) handler.call(server, socket);
  });
}

function trustProxyOption(value = ''): boolean | number | string {
  const v = value.trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v;
}

/**
 * Errors Fastify's router raises before any route or hook runs: a bad percent-escape in the path
 * (FST_ERR_BAD_URL) and a path parameter over maxParamLength (FST_ERR_MAX_PARAM_LENGTH) both name no resource
 * of ours, so they get our 404 NOT_FOUND (see toProblem) instead of Fastify's plain JSON.
 */
function answerFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('X-Request-Id', String(req.id));
  sendProblem(reply, toProblem(err, req.url.split('?')[0], String(req.id)));
}

/**
 * Every app serves HTTP the same way: Fastify, correlation ids from `X-Request-Id`, problem+json for every
 * error (including Fastify's own body-parser errors, which happen before Nest sees the request).
 */
/** How long a stopping app keeps answering 503 SHUTTING_DOWN before it closes its listener. */
const SHUTDOWN_GRACE_MS = 300;

export async function createHttpApp(
  module: Type<unknown>,
  opts: HttpAppOptions,
): Promise<NestFastifyApplication> {
  const tls = opts.tls?.certFile && opts.tls.keyFile ? opts.tls : undefined;
  const tlsPair = tls && readTls(tls);
  const adapter = new FastifyAdapter({
    ...(tlsPair && { https: tlsPair }),
    bodyLimit: opts.bodyLimitBytes ?? 1_048_576,
    // A hop count is still honoured at run time (fastify lib/request.js); Fastify 5.12's typing lost it.
    trustProxy: trustProxyOption(opts.trustProxy) as boolean | string,
    // HEAD is not a peer operation; without this Fastify would answer HEAD on every GET route.
    exposeHeadRoutes: false,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      correlationIdFrom(req.headers['x-request-id'] ?? req.headers['x-correlation-id']),
    // Peers send the same path with and without a trailing slash.
    routerOptions: { ignoreTrailingSlash: true },
    // Our own 503 while closing (below), as problem+json; requests already in flight finish normally.
    return503OnClosing: false,
    // No Nest middleware in our apps: without this, @fastify/middie runs an onRequest hook on every request.
    skipMiddie: true,
    ...(opts.limits && timeoutOptions(opts.limits)),
    // Requests Node's HTTP parser rejects (invented methods, broken framing) never reach a route; requests
    // not received within the head/request timeout end here too.
    clientErrorHandler: answerClientError,
    // Fastify 5.12 types this for HTTP/2 servers too; ours are HTTP/1 (or HTTPS).
    frameworkErrors: answerFrameworkError as never,
  });
  const fastify = adapter.getInstance();
  // Every route from the first one on, for the OpenAPI document (openapi/openapi.module.ts).
  recordRoutes(fastify);
  if (opts.limits) {
    // Fastify has no option for Node's headersTimeout. Node checks both timeouts on a timer (every 30 s by
    // default) started when the server listens: a quarter of the shorter timeout keeps the overrun small.
    const { headersTimeoutMs, requestTimeoutMs, maxConnectionsPerSource } = opts.limits;
    fastify.server.headersTimeout = headersTimeoutMs;
    (fastify.server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
      Math.max(50, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4));
    if (maxConnectionsPerSource > 0) limitConnectionsPerSource(fastify.server, maxConnectionsPerSource);
  }
  // `Expect` other than 100-continue: Node would answer a bare 417. We keep the 417 (the status clients
  // such as curl understand and retry without the header) but with a problem+json body. No code of ours
  // means "expectation failed", so the code is MALFORMED_BODY: the request head asks for something we do
  // not support. The body is never read, so the connection is closed.
  fastify.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const details = problem(ErrorCode.MALFORMED_BODY, 'Only "Expect: 100-continue" is supported.', {
      status: 417,
      title: 'Expectation failed',
      instance: req.url?.split('?')[0],
    });
    const body = JSON.stringify(details);
    res.writeHead(417, {
      'Content-Type': 'application/problem+json',
      'Content-Length': Buffer.byteLength(body),
      Connection: 'close',
    });
    res.end(body);
  });
  // CONNECT (tunnelling): without a listener Node just drops the socket. We are no proxy: 405, with an empty
  // Allow since the CONNECT target (host:port) is not one of our resources.
  fastify.server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    if (socket.writable) {
      socket.end(
        rawProblem(
          problem(ErrorCode.METHOD_NOT_ALLOWED, 'CONNECT is not supported.'),
          'Method Not Allowed',
          'Allow: \r\n',
        ),
      );
    } else socket.destroy();
  });
  // Callback-style hooks on the request path: an async hook costs a promise per request for nothing here.
  fastify.addHook('onSend', (req, reply, payload, done) => {
    void reply.header('X-Request-Id', String(req.id));
    done(null, payload);
  });
  let closing = false;
  fastify.addHook('preClose', async () => {
    closing = true;
    // A lame-duck moment before the listener closes: Node's server.close() resets idle keep-alive sockets, and a
    // request already sent on one but not yet read would die with it. Until then every request is still read
    // and answered (503 SHUTTING_DOWN, Connection: close), so clients see an answer, never a reset.
    await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS));
  });
  fastify.addHook('onRequest', (req, reply, done) => {
    if (!closing) return done();
    void reply.header('Connection', 'close');
    sendProblem(reply, problem(ErrorCode.SHUTTING_DOWN, undefined, { instance: req.url.split('?')[0] }));
  });
  // The handler (guards, pipes, controller) runs inside the request's correlation context, so logs and
  // outgoing messages carry it: the rest of the hook chain and the handler are called from within the
  // context, as @fastify/request-context does. A Nest interceptor did this before, at the cost of an
  // AsyncResource.bind and an rxjs pipeline per request. The context stays on the request for the hooks that
  // run after the handler (the access log reads the accepted event id from it).
  fastify.decorateRequest('correlation', null);
  fastify.addHook('preHandler', (req, _reply, done) => {
    const ctx: CorrelationContext = { correlationId: String(req.id) };
    req.correlation = ctx;
    Correlation.run(ctx, done);
  });
  // Only JSON is a body here; text/plain would otherwise arrive as a string and blur the error.
  fastify.removeContentTypeParser('text/plain');

  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: opts.logger,
    bufferLogs: true,
    rawBody: opts.rawBody ?? false,
  });
  app.useGlobalFilters(new ProblemFilter());
  // Fastify's onClose hooks run once the listener is closed and every request in flight has been answered.
  fastify.addHook('onClose', (_instance, done) => {
    opts.logger.log('HTTP server closed: every request in flight was answered', 'Shutdown');
    done();
  });
  // SIGTERM/SIGINT: Nest drains HTTP (dispose), stops consumers, runs the shutdown hooks, then exits with code
  // 0. Exit code 0 is how supervisors and tests tell a graceful stop from one killed by the signal itself.
  if (tls && tlsPair) {
    reloadTlsOnSighup(fastify.server as unknown as HttpsServer, tls, opts.logger);
    opts.logger.log(`HTTPS with certificate ${describeCertificate(tlsPair.cert)}`, 'Tls');
    app.enableShutdownHooks(STOP_SIGNALS, { useProcessExit: true });
  } else app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

export async function listen(app: INestApplication, port: number, host: string): Promise<string> {
  await app.listen(port, host);
  return app.getUrl();
}
