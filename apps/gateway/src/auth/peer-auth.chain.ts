import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AuthError } from '@switchboard/contracts';
import { sendProblem, toProblem } from '@switchboard/http';
import { expiryHeader, RateLimiter, type AuthenticatedPeer } from '@switchboard/peer-auth';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { STATIC_KEY_ENABLED, StaticKeyStrategy } from './static-key.strategy';
import {
  ApiKeyStrategy,
  BasicAuthStrategy,
  BearerTokenStrategy,
  LoginFieldsStrategy,
  StandardWebhookStrategy,
  type PeerRequest,
} from './strategies';

type Outcome = AuthenticatedPeer | false;
/** One way of presenting a credential: the peer, false when this way was not used, or a throw (refused). */
type Way = (req: PeerRequest) => Outcome | [false] | Promise<Outcome | [false]>;

const presented = (r: AuthenticatedPeer | [false]): Outcome => (Array.isArray(r) ? false : r);

/**
 * The bearer token the way passport-http-bearer reads it: `Authorization: Bearer <t>` (exactly two
 * space-separated parts, any other two-part scheme is not a bearer), else `access_token` in the body, else in the
 * query; a token given in two places, or an Authorization header not of two parts, is not presented.
 */
export function bearerToken(req: PeerRequest): string | undefined {
  let token: string | undefined;
  const authorization = req.headers.authorization;
  if (authorization) {
    const parts = authorization.split(' ');
    if (parts.length !== 2) return undefined;
    if (/^Bearer$/i.test(parts[0])) token = parts[1];
  }
  const body = req.body as { access_token?: unknown } | null | undefined;
  if (body && body.access_token) {
    if (token) return undefined;
    token = body.access_token as string;
  }
  const query = req.query as { access_token?: unknown } | null | undefined;
  if (query && query.access_token) {
    if (token) return undefined;
    token = query.access_token as string;
  }
  return token || undefined;
}

/** HTTP Basic the way passport-http reads it: user and password from `Basic base64(user:password)`. */
export function basicCredentials(req: PeerRequest): { user: string; password: string } | undefined {
  const authorization = req.headers.authorization;
  if (!authorization) return undefined;
  const parts = authorization.split(' ');
  if (parts.length < 2 || !/Basic/i.test(parts[0])) return undefined;
  const credentials = Buffer.from(parts[1], 'base64').toString().split(':');
  if (credentials.length < 2 || !credentials[0] || !credentials[1]) return undefined;
  return { user: credentials[0], password: credentials[1] };
}

/**
 * Peer authentication for peer routes, as one chain tried in order: the bench's static key (test builds only),
 * a Standard-Webhooks signature, bearer, X-Api-Key, Basic, login/password fields. The first way the request
 * uses decides (a refused credential is not retried another way); none used is AUTH_MISSING. Each way is the
 * passport strategy's own validate(), with the credential read the way its passport library reads it, so the
 * answers are the passport chain's (the e2e suites peer-auth and peer-abuse hold them); passport's per-request
 * machinery (a strategy object per attempt, callbacks, Nest's guard and rxjs around it) is not on the path.
 * Then the peer's quota, and the credential expiry warning on the response.
 */
@Injectable()
export class PeerAuthChain {
  private readonly ways: Way[];

  constructor(
    staticKey: StaticKeyStrategy,
    signature: StandardWebhookStrategy,
    bearer: BearerTokenStrategy,
    apiKey: ApiKeyStrategy,
    basic: BasicAuthStrategy,
    login: LoginFieldsStrategy,
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {
    this.ways = [
      ...(STATIC_KEY_ENABLED ? [(req: PeerRequest) => staticKey.validate(req)] : []),
      // The strategy checks this too; here it spares a promise on every unsigned request.
      (req) => (req.headers['webhook-signature'] === undefined ? false : signature.validate(req)),
      (req) => {
        const token = bearerToken(req);
        return token === undefined ? false : bearer.validate(req, token);
      },
      (req) => apiKey.validate(req),
      (req) => {
        const c = basicCredentials(req);
        return c === undefined ? false : basic.validate(req, c.user, c.password);
      },
      (req) => login.validate(req),
    ];
  }

  /** The authenticated peer (also set as `req.user`), or a throw: AuthError with its code. */
  authenticate(req: PeerRequest, reply: FastifyReply): AuthenticatedPeer | Promise<AuthenticatedPeer> {
    return this.from(0, req, reply);
  }

  /** A Fastify preHandler: authenticates, or answers the refusal as problem+json. */
  readonly hook: preHandlerHookHandler = (req, reply, done) => {
    const refuse = (err: unknown) =>
      sendProblem(reply, toProblem(err, req.url.split('?')[0], String(req.id)));
    let outcome: AuthenticatedPeer | Promise<AuthenticatedPeer>;
    try {
      outcome = this.authenticate(req, reply);
    } catch (err) {
      return refuse(err);
    }
    if (outcome instanceof Promise) outcome.then(() => done(), refuse);
    else done();
  };

  /** Ways from index `i` on; synchronous as long as the ways tried are. */
  private from(
    i: number,
    req: PeerRequest,
    reply: FastifyReply,
  ): AuthenticatedPeer | Promise<AuthenticatedPeer> {
    for (; i < this.ways.length; i++) {
      const r = this.ways[i](req);
      if (r instanceof Promise) {
        const next = i + 1;
        return r.then((settled) => {
          const peer = presented(settled as AuthenticatedPeer | [false]) || false;
          return peer ? this.admit(peer, req, reply) : this.from(next, req, reply);
        });
      }
      const peer = r && presented(r);
      if (peer) return this.admit(peer, req, reply);
    }
    throw new AuthError(
      'AUTH_MISSING',
      'Authenticate with "Authorization: Bearer <token>", HTTP Basic (peer id : token), login/password fields, or a signature.',
    );
  }

  private admit(peer: AuthenticatedPeer, req: FastifyRequest, reply: FastifyReply): AuthenticatedPeer {
    // Set even when over quota: the access log and the replay release (ReplayRelease) see who it was.
    (req as PeerRequest).user = peer;
    admitPeer(peer, reply, this.limiter, this.config);
    return peer;
  }
}

/** After any way accepted the caller: the peer's quota, and the expiry warning on the response. */
export function admitPeer(
  peer: AuthenticatedPeer,
  reply: FastifyReply,
  limiter: RateLimiter,
  config: AppConfig,
): void {
  const wait = limiter.take(peer.id, peer.rateLimitPerMinute ?? config.peerAuth.defaultRateLimitPerMinute);
  if (wait > 0) throw new AuthError('RATE_LIMITED', 'This peer is over its request quota.', wait);
  if (peer.expiryWarning) {
    const h = expiryHeader(peer.expiryWarning);
    void reply.header(h.name, h.value);
  }
}
