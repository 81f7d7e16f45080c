import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AuthError, ErrorCode } from '@switchboard/contracts';
import { FailureTracker } from '@switchboard/peer-auth';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { OperatorPrincipal } from './operator';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Sets `request.operator` (OperatorPrincipal) for every console handler. Operator access until operator accounts exist: one admin token, held only as its digest in memory. Wrong
 * tokens are counted per source address; an address that guessed console.adminLockoutMaxFailures times is
 * refused (AUTH_LOCKED, Retry-After, back-off doubling) before the token is even compared. Keyed by source
 * only, so a guesser elsewhere never locks the operator out. Every refusal is in the access log (ConsoleAccessLog).
 */
@Injectable()
export class OperatorGuard implements CanActivate {
  private readonly digest: Buffer;
  private readonly failures: FailureTracker;

  constructor(config: AppConfig) {
    this.digest = sha256(config.console.adminToken);
    const p = config.peerAuth;
    this.failures = new FailureTracker({
      peerMaxFailures: config.console.adminLockoutMaxFailures,
      ipMaxFailures: config.console.adminLockoutMaxFailures,
      windowSeconds: p.lockoutWindowSeconds,
      baseSeconds: p.lockoutBaseSeconds,
      maxSeconds: p.lockoutMaxSeconds,
    });
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const key = [`ip:${req.ip}`];
    const locked = this.failures.lockedFor(key);
    if (locked > 0) {
      throw new AuthError(
        ErrorCode.AUTH_LOCKED,
        'Too many wrong admin tokens; wait before trying again.',
        locked,
      );
    }
    const auth = req.headers.authorization;
    if (!auth?.toLowerCase().startsWith('bearer ')) {
      throw new AuthError(ErrorCode.AUTH_MISSING, 'Send the admin token as "Authorization: Bearer <token>".');
    }
    if (!timingSafeEqual(sha256(auth.slice(7).trim()), this.digest)) {
      this.failures.record(key);
      throw new AuthError(ErrorCode.AUTH_INVALID, 'The admin token was not accepted.');
    }
    const operator: OperatorPrincipal = {
      id: 'bootstrap',
      name: 'ADMIN_TOKEN',
      role: 'admin',
      managerId: null,
      via: 'admin-token',
    };
    (req as FastifyRequest & { operator: OperatorPrincipal }).operator = operator;
    return true;
  }
}
