import { Body, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { DomainError } from '@switchboard/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { Environment, FileSystemLoader } from 'nunjucks';
import { clearSessionCookie, signIn } from './auth.controller';
import { OperatorAccounts } from './operator-accounts.service';
import { LiveSession, OperatorSessions, SESSION_COOKIE } from './operator-sessions.service';
import { OperatorsRepository } from './operators.repository';

type Form = Record<string, unknown>;
const field = (b: unknown, name: string): string => {
  const v = (b && typeof b === 'object' ? (b as Form) : {})[name];
  return typeof v === 'string' ? v : '';
};
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** The templates are read from the source tree (tsc does not copy them to dist). */
function viewsDir(): string {
  const candidates = [
    join(__dirname, 'views'),
    resolve(__dirname, '../../../../../apps/console/src/operators/views'),
  ];
  return candidates.find((d) => existsSync(join(d, 'layout.njk'))) ?? candidates[0];
}

/** Where a freshly signed-in operator goes: its pending step first, else the console. */
const landing = (next: string | null) =>
  next === 'change-password' ? '/console/password' : next === 'enrol-totp' ? '/console/totp' : '/console';

/** A password that was right, waiting for its TOTP code (per process; 5 minutes). */
interface PendingLogin {
  operatorId: string;
  expiresAt: number;
}
const TICKET_TTL_MS = 5 * 60_000;

/**
 * The sign-in pages, server-rendered with nunjucks (autoescape on), usable without JavaScript: sign-in with the
 * TOTP step, the forced password change and TOTP enrolment. Forms post url-encoded (@fastify/formbody); pages of
 * a signed-in operator carry the session's CSRF token as `_csrf`. Errors are shown on the page with their code.
 */
@Controller('console')
export class LoginPagesController {
  private readonly env = new Environment(new FileSystemLoader(viewsDir()), { autoescape: true });
  private readonly pending = new Map<string, PendingLogin>();

  constructor(
    private readonly accounts: OperatorAccounts,
    private readonly sessions: OperatorSessions,
    private readonly repo: OperatorsRepository,
    private readonly config: AppConfig,
  ) {}

  private page(reply: FastifyReply, view: string, ctx: Record<string, unknown>, status = 200) {
    void reply
      .status(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'",
      )
      .send(this.env.render(view, ctx));
  }

  private failed(reply: FastifyReply, view: string, ctx: Record<string, unknown>, err: unknown) {
    if (!(err instanceof DomainError)) throw err;
    const status =
      err.code === 'AUTH_LOCKED'
        ? 429
        : err.code.startsWith('AUTH_') || err.code.startsWith('TOTP_')
          ? 401
          : 400;
    this.page(reply, view, { ...ctx, error: err.message, code: err.code }, status);
  }

  private redirect(reply: FastifyReply, to: string) {
    void reply.status(303).header('location', to).send();
  }

  private async session(req: FastifyRequest): Promise<LiveSession | null> {
    const cookie = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.[
      SESSION_COOKIE
    ];
    return cookie ? this.sessions.resolve(cookie, (id) => this.repo.byId(id)) : null;
  }

  private csrfOk(live: LiveSession, body: unknown): boolean {
    return timingSafeEqual(sha256(field(body, '_csrf')), sha256(live.session.csrfToken));
  }

  @Get('login')
  loginPage(@Res() reply: FastifyReply) {
    this.page(reply, 'login.njk', { title: 'Sign in' });
  }

  @Post('login')
  async login(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const email = field(body, 'email');
    try {
      const row = await this.accounts
        .authenticate(email, field(body, 'password'), undefined, req.ip)
        .catch(async (err: unknown) => {
          if (err instanceof DomainError && err.code === 'TOTP_REQUIRED') {
            const found = await this.repo.byEmail(email.trim().toLowerCase());
            if (found) return { totpStep: found.id };
          }
          throw err;
        });
      if ('totpStep' in row) {
        for (const [t, p] of this.pending) if (p.expiresAt < Date.now()) this.pending.delete(t);
        const ticket = randomBytes(24).toString('base64url');
        this.pending.set(ticket, { operatorId: row.totpStep, expiresAt: Date.now() + TICKET_TTL_MS });
        return this.page(reply, 'login-totp.njk', { title: 'Two-factor sign-in', ticket });
      }
      const s = await signIn(row, req, reply, this.sessions, this.accounts, this.config);
      this.redirect(reply, landing(s.next));
    } catch (err) {
      this.failed(reply, 'login.njk', { title: 'Sign in', email }, err);
    }
  }

  @Post('login/totp')
  async loginTotp(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const ticket = field(body, 'ticket');
    const pending = this.pending.get(ticket);
    if (!pending || pending.expiresAt < Date.now()) {
      this.pending.delete(ticket);
      return this.page(
        reply,
        'login.njk',
        { title: 'Sign in', error: 'The sign-in took too long; start again.' },
        401,
      );
    }
    try {
      const row = await this.accounts.get(pending.operatorId);
      await this.accounts.checkSecondFactor(row, field(body, 'totp'), req.ip);
      this.pending.delete(ticket);
      const s = await signIn(row, req, reply, this.sessions, this.accounts, this.config);
      this.redirect(reply, landing(s.next));
    } catch (err) {
      this.failed(reply, 'login-totp.njk', { title: 'Two-factor sign-in', ticket }, err);
    }
  }

  @Post('logout')
  async logout(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const live = await this.session(req);
    if (live && this.csrfOk(live, body)) {
      await this.sessions.revokeById(live.operator.id, live.session.id);
      clearSessionCookie(reply, this.config);
    }
    this.redirect(reply, '/console/login');
  }

  @Get('password')
  async passwordPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const live = await this.session(req);
    if (!live) return this.redirect(reply, '/console/login');
    const expired = this.accounts.pendingStep(live.operator) === 'change-password';
    this.page(reply, 'password.njk', { title: 'Change password', csrf: live.session.csrfToken, expired });
  }

  @Post('password')
  async password(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const live = await this.session(req);
    if (!live) return this.redirect(reply, '/console/login');
    const ctx = { title: 'Change password', csrf: live.session.csrfToken };
    if (!this.csrfOk(live, body))
      return this.page(
        reply,
        'password.njk',
        { ...ctx, error: 'The form expired; try again.', code: 'CSRF_INVALID' },
        403,
      );
    try {
      await this.accounts.changePassword(live.operator.id, field(body, 'current'), field(body, 'password'));
      await this.sessions.revokeOthers(live.operator.id, live.session.id);
      const row = await this.accounts.get(live.operator.id);
      this.redirect(reply, landing(this.accounts.pendingStep(row)));
    } catch (err) {
      this.failed(reply, 'password.njk', ctx, err);
    }
  }

  @Get('totp')
  async totpPage(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const live = await this.session(req);
    if (!live) return this.redirect(reply, '/console/login');
    const enrolment = await this.accounts.startTotp(live.operator.id);
    this.page(reply, 'totp.njk', { title: 'Two-factor sign-in', csrf: live.session.csrfToken, ...enrolment });
  }

  @Post('totp')
  async totp(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const live = await this.session(req);
    if (!live) return this.redirect(reply, '/console/login');
    const ctx = { title: 'Two-factor sign-in', csrf: live.session.csrfToken };
    if (!this.csrfOk(live, body))
      return this.page(
        reply,
        'totp.njk',
        { ...ctx, error: 'The form expired; try again.', code: 'CSRF_INVALID' },
        403,
      );
    try {
      const { recoveryCodes } = await this.accounts.confirmTotp(live.operator.id, field(body, 'code'));
      this.page(reply, 'totp.njk', { ...ctx, recoveryCodes });
    } catch (err) {
      // A wrong code: a fresh secret and QR code (the pending one is replaced), with the error.
      const enrolment = await this.accounts.startTotp(live.operator.id);
      this.failed(reply, 'totp.njk', { ...ctx, ...enrolment }, err);
    }
  }
}
