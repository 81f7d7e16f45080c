import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '@switchboard/config';
import { AuthError, ErrorCode } from '@switchboard/contracts';
import { FailureTracker } from '@switchboard/peer-auth';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { OperatorAccounts, OperatorError } from './operator-accounts.service';
import { OperatorSessions, API_TOKEN_PREFIX, SESSION_COOKIE } from './operator-sessions.service';
import { ROLES_KEY, SELF_SERVICE_KEY, type OperatorPrincipal, type OperatorRole } from './operator';
import { OperatorRow, OperatorsRepository } from './operators.repository';

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type ConsoleRequest = FastifyRequest & {
  operator?: OperatorPrincipal;
  /** The session's CSRF token, for the web console's forms to carry as `_csrf`. */
  csrfToken?: string;
  cookies?: Record<string, string | undefined>;
};

/**
 * Sets `request.operator` (OperatorPrincipal) for every console handler, from one of three credentials:
 * - the `sb_session` cookie of a signed-in operator (state-changing requests must also carry the session's CSRF
 *   token, as `X-CSRF-Token` or a `_csrf` form field);
 * - a personal API token `Authorization: Bearer sbp_…` (scope `read`: GET only; exempt from CSRF: a browser
 *   never sends it by itself);
 * - the shared ADMIN_TOKEN, the audited bootstrap / break-glass admin: every use is logged at warn level and
 *   recorded in the access log as operator `bootstrap`. Wrong admin tokens are counted per source address; an
 *   address that guessed console.adminLockoutMaxFailures times is refused (AUTH_LOCKED, back-off doubling).
 * Then the role: `@Roles()` on the handler or controller lists who may call it; auditors may only read; an
 * operator with a pending password change or two-factor enrolment may only use the `@SelfService()` routes.
 */
@Injectable()
export class OperatorGuard implements CanActivate {
  private readonly log = new Logger('OperatorGuard');
  private readonly digest: Buffer;
  private readonly failures: FailureTracker;

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
    private readonly sessions: OperatorSessions,
    private readonly accounts: OperatorAccounts,
    private readonly repo: OperatorsRepository,
  ) {
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

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<ConsoleRequest>();
    const targets = [ctx.getHandler(), ctx.getClass()];
    const selfService = this.reflector.getAllAndOverride<boolean>(SELF_SERVICE_KEY, targets) ?? false;
    const { principal, row } = await this.authenticate(req);
    if (row && !selfService) {
      const pending = this.accounts.pendingStep(row);
      if (pending === 'change-password')
        throw new OperatorError(
          ErrorCode.PASSWORD_CHANGE_REQUIRED,
          'Your password has expired: change it first (POST /v1/auth/password).',
        );
      if (pending === 'enrol-totp')
        throw new OperatorError(
          ErrorCode.TOTP_ENROLMENT_REQUIRED,
          'Your role requires two-factor sign-in: enrol first (POST /v1/auth/totp/enrol).',
        );
    }
    const roles = this.reflector.getAllAndOverride<OperatorRole[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(principal.role))
      throw new OperatorError(ErrorCode.ROLE_FORBIDDEN, `The ${principal.role} role may not use this route.`);
    if (principal.role === 'auditor' && !selfService && !SAFE_METHODS.has(req.method))
      throw new OperatorError(ErrorCode.ROLE_FORBIDDEN, 'The auditor role is read-only.');
    req.operator = principal;
    return true;
  }

  private async authenticate(
    req: ConsoleRequest,
  ): Promise<{ principal: OperatorPrincipal; row: OperatorRow | null }> {
    const auth = req.headers.authorization;
    if (auth?.toLowerCase().startsWith('bearer ')) {
      const bearer = auth.slice(7).trim();
      return bearer.startsWith(API_TOKEN_PREFIX) ? this.byToken(req, bearer) : this.byAdminToken(req, bearer);
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (!cookie)
      throw new AuthError(
        ErrorCode.AUTH_MISSING,
        'Sign in (POST /v1/auth/login) or send a token as "Authorization: Bearer <token>".',
      );
    const live = await this.sessions.resolve(cookie, (id) => this.repo.byId(id));
    if (!live) throw new AuthError(ErrorCode.AUTH_EXPIRED, 'The session has ended; sign in again.');
    if (!SAFE_METHODS.has(req.method)) {
      const body = req.body as Record<string, unknown> | undefined;
      const sent = req.headers['x-csrf-token'] ?? (typeof body?._csrf === 'string' ? body._csrf : undefined);
      const given = typeof sent === 'string' ? sha256(sent) : sha256(`missing:${live.session.csrfToken}`);
      if (!timingSafeEqual(given, sha256(live.session.csrfToken)))
        throw new OperatorError(
          ErrorCode.CSRF_INVALID,
          "Send the session's CSRF token as X-CSRF-Token or the _csrf form field.",
        );
    }
    req.csrfToken = live.session.csrfToken;
    return { principal: principalOf(live.operator, 'session', live.session.id), row: live.operator };
  }

  private async byToken(req: ConsoleRequest, bearer: string) {
    const token = await this.sessions.resolveToken(bearer);
    const row = await this.repo.byId(token.operatorId);
    if (!row || row.disabledAt)
      throw new AuthError(ErrorCode.AUTH_REVOKED, "The token's operator is disabled.");
    if (!SAFE_METHODS.has(req.method) && !token.scopes.includes('write'))
      throw new OperatorError(ErrorCode.ROLE_FORBIDDEN, 'This API token has the read scope only.');
    return { principal: principalOf(row, 'token'), row };
  }

  private byAdminToken(req: ConsoleRequest, bearer: string) {
    const key = [`ip:${req.ip}`];
    const locked = this.failures.lockedFor(key);
    if (locked > 0)
      throw new AuthError(
        ErrorCode.AUTH_LOCKED,
        'Too many wrong admin tokens; wait before trying again.',
        locked,
      );
    if (!timingSafeEqual(sha256(bearer), this.digest)) {
      this.failures.record(key);
      throw new AuthError(ErrorCode.AUTH_INVALID, 'The token was not accepted.');
    }
    // Break-glass use is always visible: here, in the access log (operator_id 'bootstrap') and its alert rule.
    this.log.warn(`ADMIN_TOKEN used (break-glass) from ${req.ip}: ${req.method} ${req.url.split('?')[0]}`);
    const principal: OperatorPrincipal = {
      id: 'bootstrap',
      name: 'ADMIN_TOKEN',
      role: 'admin',
      managerId: null,
      via: 'admin-token',
    };
    return { principal, row: null };
  }
}

function principalOf(o: OperatorRow, via: 'session' | 'token', sessionId?: string): OperatorPrincipal {
  return { id: o.id, name: o.name, role: o.role, managerId: o.managerId, via, sessionId };
}
