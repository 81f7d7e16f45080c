import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '@switchboard/contracts';
import { OperatorAccounts, OperatorError } from './operator-accounts.service';
import { OperatorGuard } from './operator.guard';
import { OperatorSessions, SESSION_COOKIE } from './operator-sessions.service';
import { CurrentOperator, SelfService, type OperatorPrincipal } from './operator';
import { OperatorRow, viewOf } from './operators.repository';

type Json = Record<string, unknown>;
const obj = (b: unknown): Json => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Json) : {});

/** Signs an operator in: a session row, the HTTP-only cookie, and what the client must do next. */
export async function signIn(
  row: OperatorRow,
  req: FastifyRequest,
  reply: FastifyReply,
  sessions: OperatorSessions,
  accounts: OperatorAccounts,
  config: AppConfig,
) {
  const s = await sessions.open(row.id, req.ip ?? null, req.headers['user-agent'] ?? null);
  const o = config.console.operators;
  void reply.setCookie(SESSION_COOKIE, s.cookie, {
    path: '/',
    httpOnly: true,
    secure: o.cookieSecure,
    sameSite: o.cookieSameSite === 'Lax' ? 'lax' : 'strict',
    expires: s.expiresAt,
  });
  return {
    operator: viewOf(row),
    csrfToken: s.csrfToken,
    expiresAt: s.expiresAt,
    next: accounts.pendingStep(row),
  };
}

export function clearSessionCookie(reply: FastifyReply, config: AppConfig): void {
  void reply.clearCookie(SESSION_COOKIE, {
    path: '/',
    httpOnly: true,
    secure: config.console.operators.cookieSecure,
  });
}

/**
 * The operator's own account over JSON: sign-in, sign-out, password, two-factor, sessions and personal tokens,
 * and password reset by a mailed code. Sign-in and reset need no credential; the rest any signed-in operator.
 */
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly accounts: OperatorAccounts,
    private readonly sessions: OperatorSessions,
    private readonly config: AppConfig,
  ) {}

  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const b = obj(body);
    const row = await this.accounts.authenticate(b.email, b.password, b.totp, req.ip);
    return signIn(row, req, reply, this.sessions, this.accounts, this.config);
  }

  @Post('reset/request')
  @HttpCode(202)
  async resetRequest(@Body() body: unknown) {
    await this.accounts.requestReset(obj(body).email);
    return { sent: 'If the email belongs to an operator, a reset code is on its way.' };
  }

  @Post('reset/confirm')
  @HttpCode(200)
  async resetConfirm(@Body() body: unknown, @Req() req: FastifyRequest) {
    const b = obj(body);
    await this.accounts.confirmReset(b.email, b.code, b.password, req.ip);
    return { reset: true };
  }

  @Get('me')
  @UseGuards(OperatorGuard)
  @SelfService()
  async me(@CurrentOperator() op: OperatorPrincipal) {
    if (op.via === 'admin-token') return { operator: op, next: null };
    const row = await this.accounts.get(op.id);
    return { operator: viewOf(row), via: op.via, next: this.accounts.pendingStep(row) };
  }

  @Post('logout')
  @HttpCode(200)
  @UseGuards(OperatorGuard)
  @SelfService()
  async logout(@CurrentOperator() op: OperatorPrincipal, @Res({ passthrough: true }) reply: FastifyReply) {
    if (op.sessionId) await this.sessions.revokeById(op.id, op.sessionId);
    clearSessionCookie(reply, this.config);
    return { signedOut: true };
  }

  /** `{current, password}`; the operator's other sessions end. */
  @Post('password')
  @HttpCode(200)
  @UseGuards(OperatorGuard)
  @SelfService()
  async password(@CurrentOperator() op: OperatorPrincipal, @Body() body: unknown) {
    const b = obj(body);
    await this.accounts.changePassword(mustBeOperator(op), b.current, b.password);
    const ended = await this.sessions.revokeOthers(op.id, op.sessionId);
    return { changed: true, otherSessionsEnded: ended };
  }

  @Post('totp/enrol')
  @HttpCode(200)
  @UseGuards(OperatorGuard)
  @SelfService()
  totpEnrol(@CurrentOperator() op: OperatorPrincipal) {
    return this.accounts.startTotp(mustBeOperator(op));
  }

  @Post('totp/confirm')
  @HttpCode(200)
  @UseGuards(OperatorGuard)
  @SelfService()
  totpConfirm(@CurrentOperator() op: OperatorPrincipal, @Body() body: unknown) {
    return this.accounts.confirmTotp(mustBeOperator(op), obj(body).code);
  }

  @Get('sessions')
  @UseGuards(OperatorGuard)
  @SelfService()
  async sessionList(@CurrentOperator() op: OperatorPrincipal) {
    return { items: await this.sessions.list(mustBeOperator(op), op.sessionId) };
  }

  @Delete('sessions/:id')
  @UseGuards(OperatorGuard)
  @SelfService()
  async sessionRevoke(@CurrentOperator() op: OperatorPrincipal, @Param('id') id: string) {
    await this.sessions.revoke(mustBeOperator(op), id);
    return { revoked: id };
  }

  @Get('tokens')
  @UseGuards(OperatorGuard)
  @SelfService()
  async tokenList(@CurrentOperator() op: OperatorPrincipal) {
    return { items: await this.sessions.tokens(mustBeOperator(op)) };
  }

  /** `{name, scopes: ["read"|"write"], expiresInDays}`; the token is in this answer only. */
  @Post('tokens')
  @HttpCode(201)
  @UseGuards(OperatorGuard)
  @SelfService()
  tokenCreate(@CurrentOperator() op: OperatorPrincipal, @Body() body: unknown) {
    return this.sessions.createToken(mustBeOperator(op), obj(body));
  }

  @Delete('tokens/:id')
  @UseGuards(OperatorGuard)
  @SelfService()
  async tokenRevoke(@CurrentOperator() op: OperatorPrincipal, @Param('id') id: string) {
    await this.sessions.revokeToken(mustBeOperator(op), id);
    return { revoked: id };
  }
}

/** The bootstrap ADMIN_TOKEN has no account: its own-account routes do not apply. */
function mustBeOperator(op: OperatorPrincipal): string {
  if (op.via === 'admin-token')
    throw new OperatorError(
      ErrorCode.ROLE_FORBIDDEN,
      'The ADMIN_TOKEN has no operator account; create one with POST /v1/admin/operators and sign in.',
    );
  return op.id;
}
