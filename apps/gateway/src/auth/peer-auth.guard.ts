import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AppConfig } from '@switchboard/config';
import { AuthError, NotFoundError } from '@switchboard/contracts';
import { PeerDirectory, RateLimiter, type AuthenticatedPeer } from '@switchboard/peer-auth';
import { admitPeer, PeerAuthChain } from './peer-auth.chain';
import type { FastifyReply } from 'fastify';
import { PROVIDERS } from '../providers';
import { providerRequest } from './signed-request';
import type { PeerRequest } from './strategies';

function identityOrMissing(err: unknown, peer: AuthenticatedPeer | false): AuthenticatedPeer {
  if (err instanceof Error) throw err;
  if (err) throw new Error('authentication failed');
  if (!peer) {
    throw new AuthError(
      'AUTH_MISSING',
      'Authenticate with "Authorization: Bearer <token>", HTTP Basic (peer id : token), login/password fields, or a signature.',
    );
  }
  return peer;
}

/** An AuthGuard over `strategies` that, once a strategy accepted the caller, applies the quota and warning. */
function admittingGuard(strategies: string | string[]) {
  @Injectable()
  class AdmittingGuard extends AuthGuard(strategies) {
    constructor(
      private readonly limiter: RateLimiter,
      private readonly config: AppConfig,
    ) {
      super();
    }

    override handleRequest<T = AuthenticatedPeer>(
      err: unknown,
      peer: AuthenticatedPeer | false,
      _info: unknown,
      ctx: ExecutionContext,
    ): T {
      const identity = identityOrMissing(err, peer);
      // Authenticated even when over quota: the access log and the replay release (ReplayRelease) see who it
      // was (the guard would set it only once this returns).
      ctx.switchToHttp().getRequest<PeerRequest>().user = identity;
      admitPeer(identity, ctx.switchToHttp().getResponse<FastifyReply>(), this.limiter, this.config);
      return identity as T;
    }
  }
  return AdmittingGuard;
}

/**
 * Peer routes served by Nest (the fast ingest routes use PeerAuthChain.hook directly): a credential (bearer,
 * X-Api-Key, Basic, login/password) or a Standard-Webhooks signature, through the same chain.
 */
@Injectable()
export class PeerAuthGuard implements CanActivate {
  constructor(private readonly chain: PeerAuthChain) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const http = ctx.switchToHttp();
    await this.chain.authenticate(http.getRequest<PeerRequest>(), http.getResponse<FastifyReply>());
    return true;
  }
}

/**
 * Provider routes: the provider's own signature. Handshakes (Zadarma's zd_echo, WooCommerce's ping) are let
 * through unauthenticated with the reply to send; they publish nothing. Only on the route of an active peer
 * configured for that provider: elsewhere the gateway would be an echo service (and an oracle for which
 * peer ids exist) for anyone.
 */
@Injectable()
export class ProviderAuthGuard extends admittingGuard('sb-provider') {
  constructor(
    limiter: RateLimiter,
    config: AppConfig,
    private readonly directory: PeerDirectory,
  ) {
    super(limiter, config);
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<PeerRequest & { handshake?: unknown }>();
    const { provider, peerId } = req.params as { provider: string; peerId: string };
    const adapter = PROVIDERS.get(provider);
    const reply = adapter?.handshake?.(providerRequest(req), '');
    if (reply) {
      const peer = this.directory.peer(peerId);
      if (peer?.provider !== provider || peer.status !== 'active')
        throw new NotFoundError(`No route ${req.method} ${req.url.split('?')[0]}`);
      req.handshake = reply;
      return true;
    }
    return (await super.canActivate(ctx)) as boolean;
  }
}

export const Peer = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthenticatedPeer => {
  const peer = ctx.switchToHttp().getRequest<PeerRequest>().user;
  if (!peer) throw new Error('Peer used on a route without a peer guard');
  return peer;
});
