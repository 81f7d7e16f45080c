import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AuthError, ErrorCode } from '@switchboard/contracts';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Operator access until operator accounts exist: one admin token, held only as its digest in memory. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly digest: Buffer;

  constructor(config: AppConfig) {
    this.digest = sha256(config.console.adminToken);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const auth = ctx.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    if (!auth?.toLowerCase().startsWith('bearer ')) {
      throw new AuthError(ErrorCode.AUTH_MISSING, 'Send the admin token as "Authorization: Bearer <token>".');
    }
    if (!timingSafeEqual(sha256(auth.slice(7).trim()), this.digest)) {
      throw new AuthError(ErrorCode.AUTH_INVALID, 'The admin token was not accepted.');
    }
    return true;
  }
}
