import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AccessLogWriter, bodyFields, claimedPeerId, resultOf, type BodyMode } from '@switchboard/access-log';
import { PeerDirectory } from '@switchboard/peer-auth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PeerRequest } from './auth/strategies';

declare module 'fastify' {
  interface FastifyRequest {
    /** The `login` field as sent, kept before the login strategy removes it from the body or query. */
    accessLogLogin?: string;
  }
}

/** Not interface calls: probes and scrapes. */
const skipped = (route: string) => route === '/metrics' || route.startsWith('/health');

function headerNumber(v: string | number | string[] | undefined): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/**
 * One inbound access-log record per gateway request, rejected ones included (auth failures, 404, 415,
 * malformed bodies, quotas, 503 while closing). Fastify hooks, synchronous and I/O-free: the record goes to
 * the writer's memory buffer. Timing is Fastify's own (reply.elapsedTime, hrtime from the start of routing).
 */
@Injectable()
export class GatewayAccessLog {
  private readonly bodies: BodyMode;

  constructor(
    private readonly writer: AccessLogWriter,
    private readonly directory: PeerDirectory,
    config: AppConfig,
  ) {
    this.bodies = config.accessLog.bodies;
  }

  /** Call before the app initializes (routes take the hooks present when they are registered). */
  install(fastify: FastifyInstance): void {
    if (!this.writer.enabled) return; // logging off: not even a hook on the request path
    fastify.decorateRequest('accessLogLogin', undefined);
    fastify.addHook('preHandler', (req, _reply, done) => {
      const body = req.body as { login?: unknown } | null | undefined;
      const query = req.query as { login?: unknown } | undefined;
      const login = body && typeof body === 'object' ? body.login : undefined;
      if (typeof login === 'string') req.accessLogLogin = login;
      else if (typeof query?.login === 'string') req.accessLogLogin = query.login;
      done();
    });
    fastify.addHook('onResponse', (req, reply, done) => {
      this.onResponse(req, reply);
      done();
    });
  }

  private onResponse(req: FastifyRequest, reply: FastifyReply): void {
    const route = req.routeOptions.url;
    if (route !== undefined && skipped(route)) return;
    const durationMs = reply.elapsedTime;
    const raw = (req as { rawBody?: Buffer }).rawBody;
    const status = reply.statusCode;
    const peer = (req as PeerRequest).user;
    this.writer.record({
      direction: 'inbound',
      peerId: peer?.id ?? null,
      claimedPeerId: peer
        ? null
        : claimedPeerId(
            { headers: req.headers, params: req.params, query: req.query, login: req.accessLogLogin },
            (credentialId) => this.directory.credential(credentialId)?.peerId,
          ),
      service: route ?? 'unmatched',
      method: req.method,
      startedAt: new Date(Date.now() - durationMs),
      durationMs,
      result: resultOf(status),
      httpStatus: status,
      errorCode: req.problemCode ?? null,
      eventId: req.correlation?.eventId ?? null,
      clientIp: req.ip ?? null,
      bytesIn: raw ? raw.length : headerNumber(req.headers['content-length']),
      bytesOut: headerNumber(reply.getHeader('content-length')),
      correlationId: String(req.id),
      // One-time code routes keep no body, not even its hash: six digits and a known otpId are brute-forced at once.
      ...bodyFields(raw, route?.startsWith('/v1/otp') ? 'none' : this.bodies),
    });
  }
}
