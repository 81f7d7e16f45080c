import { Injectable } from '@nestjs/common';
import { AccessLogWriter, resultOf } from '@switchboard/access-log';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The operator API and the web console's pages; probes, scrapes and static files are not interface calls. */
const recorded = (url: string) =>
  url.startsWith('/v1/') || (url.startsWith('/console') && !/^\/console\/(static|assets)\//.test(url));

/**
 * Console API calls in the interface access log (inbound, no peer): failed logins (AUTH_MISSING / AUTH_INVALID /
 * AUTH_LOCKED with the client address) and every read of CRM data (`/v1/crm/...`), so who looked at which
 * customer data, and who guessed at the admin token, can be answered. Also marks every API answer
 * `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`: they carry personal data and tokens that no
 * browser or proxy cache may keep.
 */
@Injectable()
export class ConsoleAccessLog {
  constructor(private readonly writer: AccessLogWriter) {}

  /** Call before the app initializes (routes take the hooks present when they are registered). */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onSend', (req, reply, payload, done) => {
      if (recorded(req.url)) {
        void reply.header('x-content-type-options', 'nosniff');
        void reply.header('cache-control', 'no-store');
      }
      done(null, payload);
    });
    if (!this.writer.enabled) return;
    fastify.addHook('onResponse', (req, reply, done) => {
      if (recorded(req.url)) this.onResponse(req, reply);
      done();
    });
  }

  private onResponse(req: FastifyRequest, reply: FastifyReply): void {
    const durationMs = reply.elapsedTime;
    const status = reply.statusCode;
    this.writer.record({
      direction: 'inbound',
      peerId: null,
      claimedPeerId: null,
      // Set by OperatorGuard: who made the call ('bootstrap' for the ADMIN_TOKEN); null when not signed in.
      operatorId: (req as FastifyRequest & { operator?: { id: string } }).operator?.id ?? null,
      service: `console ${req.routeOptions.url ?? 'unmatched'}`,
      method: req.method,
      startedAt: new Date(Date.now() - durationMs),
      durationMs,
      result: resultOf(status),
      httpStatus: status,
      errorCode: req.problemCode ?? null,
      eventId: null,
      clientIp: req.ip ?? null,
      bytesIn: null,
      bytesOut: null,
      correlationId: String(req.id),
      bodyHash: null,
      body: null,
    });
  }
}
