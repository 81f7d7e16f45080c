import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { AuthError } from '@switchboard/contracts';
import {
  verifyStandardWebhookSignature,
  PeerAuthenticator,
  type AuthenticatedPeer,
} from '@switchboard/peer-auth';
import { AppConfig } from '@switchboard/config';
import type { FastifyRequest } from 'fastify';
import { Strategy as CustomStrategy } from 'passport-custom';
import { BasicStrategy } from 'passport-http';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { PROVIDERS } from '../providers';
import { providerRequest, signedRequest } from './signed-request';

export type PeerRequest = FastifyRequest & { rawBody?: Buffer; user?: AuthenticatedPeer };

/** Passport's "not presented here, try the next strategy": a false user with no error. */
const NOT_PRESENTED: [false] = [false];

/** True when the request carries `key` in its query string (what proxies and browsers log). */
function inQuery(req: PeerRequest, key: string): boolean {
  const query = req.query as Record<string, unknown> | undefined;
  return typeof query === 'object' && query !== null && key in query;
}

/**
 * `Authorization: Bearer <token>` (passport-http-bearer; it also reads `access_token` from a form body or the
 * query string: the latter only for peers allowed URL credentials).
 */
@Injectable()
export class BearerTokenStrategy extends PassportStrategy(BearerStrategy, 'sb-bearer') {
  constructor(private readonly auth: PeerAuthenticator) {
    super({ passReqToCallback: true });
  }
  validate(req: PeerRequest, token: string): AuthenticatedPeer {
    const fromHeader =
      typeof req.headers.authorization === 'string' && /^bearer\s/i.test(req.headers.authorization);
    const body = req.body as Record<string, unknown> | undefined;
    const fromBody = typeof body === 'object' && body !== null && body.access_token === token;
    const inUrl = !fromHeader && !fromBody && inQuery(req, 'access_token');
    return this.auth.byToken(token, req.ip, { via: 'bearer', inUrl });
  }
}

/** `X-Api-Key: <token>` for clients that cannot set Authorization. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(CustomStrategy, 'sb-api-key') {
  constructor(private readonly auth: PeerAuthenticator) {
    super();
  }
  validate(req: PeerRequest): AuthenticatedPeer | [false] {
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || !key) return NOT_PRESENTED;
    return this.auth.byToken(key, req.ip, 'bearer');
  }
}

/** HTTP Basic: user = peer id, password = the whole token (passport-http). */
@Injectable()
export class BasicAuthStrategy extends PassportStrategy(BasicStrategy, 'sb-basic') {
  constructor(private readonly auth: PeerAuthenticator) {
    super({ passReqToCallback: true });
  }
  validate(req: PeerRequest, peerId: string, token: string): AuthenticatedPeer {
    return this.auth.byToken(token, req.ip, { via: 'basic', claimedPeerId: peerId });
  }
}

/**
 * Legacy systems that can only add parameters: `login` (peer id) and `password` (token) in the query or in
 * a JSON / form body. They are removed before the body is validated against the contract.
 */
@Injectable()
export class LoginFieldsStrategy extends PassportStrategy(CustomStrategy, 'sb-login') {
  constructor(private readonly auth: PeerAuthenticator) {
    super();
  }
  validate(req: PeerRequest): AuthenticatedPeer | [false] {
    const query = req.query as Record<string, unknown> | undefined;
    const body = req.body as Record<string, unknown> | undefined;
    const inBody = typeof body === 'object' && body !== null && !Array.isArray(body) && 'password' in body;
    const source = inBody ? body : query && 'password' in query ? query : null;
    if (!source) return NOT_PRESENTED;
    const { login, password } = source;
    delete source.login;
    delete source.password;
    if (typeof login !== 'string' || typeof password !== 'string') {
      throw new AuthError('AUTH_INVALID', 'The credentials were not accepted.');
    }
    return this.auth.byToken(password, req.ip, {
      via: 'login',
      claimedPeerId: login,
      inUrl: source === query,
    });
  }
}

/**
 * Generic peers signing Standard-Webhooks style: `webhook-id`, `webhook-timestamp`, `webhook-signature`
 * (HMAC-SHA256 over `id.timestamp.body` with the peer's signing secret) and `X-Peer-Id` naming the peer.
 */
@Injectable()
export class StandardWebhookStrategy extends PassportStrategy(CustomStrategy, 'sb-signature') {
  constructor(
    private readonly auth: PeerAuthenticator,
    private readonly config: AppConfig,
  ) {
    super();
  }
  async validate(req: PeerRequest): Promise<AuthenticatedPeer | [false]> {
    if (req.headers['webhook-signature'] === undefined) return NOT_PRESENTED;
    const peerId = req.headers['x-peer-id'];
    if (typeof peerId !== 'string' || !peerId) {
      throw new AuthError('AUTH_MISSING', 'A signed request must name its peer in X-Peer-Id.');
    }
    const signed = signedRequest(req);
    const tolerance = this.config.peerAuth.signatureToleranceSeconds;
    return this.auth.bySignature(
      peerId,
      req.ip,
      'signature',
      (secret) => verifyStandardWebhookSignature(signed, secret, { toleranceSeconds: tolerance }),
      String(req.headers['webhook-id']),
    );
  }
}

/** `/v1/providers/:provider/:peerId`: the provider's own signature scheme, with the peer's signing secret. */
@Injectable()
export class ProviderSignatureStrategy extends PassportStrategy(CustomStrategy, 'sb-provider') {
  constructor(
    private readonly auth: PeerAuthenticator,
    private readonly config: AppConfig,
  ) {
    super();
  }
  async validate(req: PeerRequest): Promise<AuthenticatedPeer> {
    const { provider, peerId } = req.params as { provider: string; peerId: string };
    const adapter = PROVIDERS.get(provider);
    if (!adapter) throw new AuthError('AUTH_SIGNATURE_INVALID', 'The request signature does not match.');
    const request = providerRequest(req);
    const policy = {
      toleranceSeconds: this.config.peerAuth.signatureToleranceSeconds,
      allowLegacySignatures: this.config.peerAuth.asteriskV1Signatures,
    };
    return this.auth.bySignature(
      peerId,
      req.ip,
      'provider',
      (secret) => adapter.verify(request, secret, policy),
      undefined,
      provider,
    );
  }
}
