import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AuthError, ErrorCode } from '@switchboard/contracts';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';

export interface AuthenticatedPeer {
  id: string;
}
type PeerRequest = FastifyRequest & { peer?: AuthenticatedPeer };

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * The one place peers are authenticated. For now: static demo keys from config (compared as digests in
 * constant time, every key checked so timing does not reveal which matched); peer-auth replaces the inside.
 */
@Injectable()
export class PeerAuthGuard implements CanActivate {
  private readonly keys: Array<{ peerId: string; digest: Buffer }>;

  constructor(config: AppConfig) {
    this.keys = config.gateway.peerKeys.map((k) => ({ peerId: k.peerId, digest: sha256(k.key) }));
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<PeerRequest>();
    const presented = this.presentedKey(req);
    if (!presented)
      throw new AuthError(ErrorCode.AUTH_MISSING, 'Send your key as "Authorization: Bearer <key>".');
    const digest = sha256(presented);
    let peerId: string | null = null;
    for (const k of this.keys) if (timingSafeEqual(k.digest, digest)) peerId = k.peerId;
    if (!peerId) throw new AuthError(ErrorCode.AUTH_INVALID, 'The credentials were not accepted.');
    req.peer = { id: peerId };
    return true;
  }

  private presentedKey(req: FastifyRequest): string | null {
    const auth = req.headers.authorization;
    if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim() || null;
    const apiKey = req.headers['x-api-key'];
    return typeof apiKey === 'string' && apiKey ? apiKey : null;
  }
}

export const Peer = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthenticatedPeer => {
  const peer = ctx.switchToHttp().getRequest<PeerRequest>().peer;
  if (!peer) throw new Error('Peer used on a route without PeerAuthGuard');
  return peer;
});
