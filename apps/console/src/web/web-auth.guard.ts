import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '@switchboard/config';
import { AuthError, ErrorCode } from '@switchboard/contracts';
import { createHash, timingSafeEqual } from 'node:crypto';
import { OperatorPrincipal, OperatorRole, ROLES_KEY } from '../operators/operator';
import type { WebRequest } from './web-request';

/** The cookie the TEMPORARY bridge below reads. */
export const ADMIN_COOKIE = 'sb_admin';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * TEMPORARY BRIDGE (issue 17 part 4, until operator sessions land): signs a browser in as the bootstrap admin
 * when the `sb_admin` cookie (or an `Authorization: Bearer` header) holds the ADMIN_TOKEN, and sets the same
 * `request.operator` OperatorGuard sets. At merge this guard is replaced by the operator-session guard (the
 * session cookie, CSRF, lockout); the pages only read `request.operator` and `@Roles()`, so nothing else
 * changes. Roles are checked here as well so the role-aware pages are already tested against a real check.
 */
@Injectable()
export class WebAuthGuard implements CanActivate {
  private readonly digest: Buffer;

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.digest = sha256(config.console.adminToken);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<WebRequest>();
    const auth = req.headers.authorization;
    const bearer = auth?.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : undefined;
    const token = bearer ?? cookieValue(req.headers.cookie, ADMIN_COOKIE);
    if (!token) throw new AuthError(ErrorCode.AUTH_MISSING, 'Sign in to use the console.');
    if (!timingSafeEqual(sha256(token), this.digest))
      throw new AuthError(ErrorCode.AUTH_INVALID, 'The sign-in was not accepted.');
    const operator: OperatorPrincipal = {
      id: 'bootstrap',
      name: 'ADMIN_TOKEN',
      role: 'admin',
      managerId: null,
      via: 'admin-token',
    };
    req.operator = operator;
    const roles = this.reflector.getAllAndOverride<OperatorRole[] | undefined>(ROLES_KEY, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (roles && !roles.includes(operator.role))
      throw new AuthError(ErrorCode.AUTH_SCOPE_DENIED, 'Your role may not open this page.');
    return true;
  }
}

/** One cookie from a Cookie header (RFC 6265 pairs; values may be percent-encoded). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}
