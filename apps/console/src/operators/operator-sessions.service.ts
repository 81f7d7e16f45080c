import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { AuthError, ContractViolation, ErrorCode, NotFoundError } from '@switchboard/contracts';
import { CredentialHasher } from '@switchboard/peer-auth';
import { randomBytes } from 'node:crypto';
import { OperatorRow, OperatorsRepository, SessionRow, TokenRow } from './operators.repository';

export const SESSION_COOKIE = 'sb_session';
export const API_TOKEN_PREFIX = 'sbp_';
/** read: GET/HEAD only; write: every method. The operator's role limits both. */
export const TOKEN_SCOPES = ['read', 'write'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** A token is `sbp_<12 hex id>_<43 base64url secret>`: the id finds the row, the secret is checked by HMAC. */
const TOKEN = /^sbp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** The session's last-seen time is written at most this often (not on every request). */
const TOUCH_EVERY_MS = 30_000;

export interface LiveSession {
  session: SessionRow;
  operator: OperatorRow;
}

const tokenView = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes,
  createdAt: t.createdAt,
  expiresAt: t.expiresAt,
  lastUsedAt: t.lastUsedAt,
  revoked: t.revokedAt !== null,
});

/**
 * Cookie sessions and personal API tokens. The cookie value and the token secret are random (256 bits) and only
 * their peppered HMAC is stored (CredentialHasher, like peer credentials), so a database dump signs nobody in.
 * A session ends when revoked, after sessionIdleMinutes unused, or sessionAbsoluteHours after sign-in.
 */
@Injectable()
export class OperatorSessions {
  constructor(
    private readonly repo: OperatorsRepository,
    private readonly hasher: CredentialHasher,
    private readonly config: AppConfig,
  ) {}

  private get policy() {
    return this.config.console.operators;
  }

  /** Opens a session; returns the cookie value (never stored) and the CSRF token bound to the session. */
  async open(operatorId: string, clientIp: string | null, userAgent: string | null) {
    const cookie = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.policy.sessionAbsoluteHours * 3_600_000);
    await this.repo.insertSession({
      id: this.hasher.hash(cookie),
      operatorId,
      csrfToken,
      expiresAt,
      clientIp,
      userAgent: userAgent?.slice(0, 300) ?? null,
    });
    return { cookie, csrfToken, expiresAt };
  }

  /** The live session behind a cookie value, with its operator; null when there is none. */
  async resolve(
    cookie: string,
    load: (id: string) => Promise<OperatorRow | null>,
  ): Promise<LiveSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return null;
    const session = await this.repo.liveSession(this.hasher.hash(cookie), this.policy.sessionIdleMinutes);
    if (!session) return null;
    const operator = await load(session.operatorId);
    if (!operator || operator.disabledAt) return null;
    if (Date.now() - new Date(session.lastSeenAt).getTime() > TOUCH_EVERY_MS)
      await this.repo.touchSession(session.id);
    return { session, operator };
  }

  /** The public id of a session (a prefix of its stored HMAC): enough to list and revoke, useless to sign in. */
  static publicId(sessionId: string): string {
    return sessionId.slice(0, 16);
  }

  async list(operatorId: string, currentSessionId?: string) {
    return (await this.repo.sessionsOf(operatorId, this.policy.sessionIdleMinutes)).map((s) => ({
      id: OperatorSessions.publicId(s.id),
      current: s.id === currentSessionId,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      expiresAt: s.expiresAt,
      clientIp: s.clientIp,
      userAgent: s.userAgent,
    }));
  }

  async revoke(operatorId: string, publicId: string): Promise<void> {
    if (
      !/^[0-9a-f]{16}$/.test(publicId) ||
      !(await this.repo.revokeSessions(operatorId, { prefix: publicId }))
    )
      throw new NotFoundError(`No session ${publicId}.`);
  }

  async revokeById(operatorId: string, sessionId: string): Promise<void> {
    await this.repo.revokeSessions(operatorId, { prefix: sessionId });
  }

  async revokeOthers(operatorId: string, keepSessionId?: string): Promise<number> {
    return this.repo.revokeSessions(operatorId, { except: keepSessionId });
  }

  // ---- personal API tokens

  async createToken(
    operatorId: string,
    input: { name?: unknown; scopes?: unknown; expiresInDays?: unknown },
  ) {
    const errors = [];
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name || name.length > 100)
      errors.push({ field: 'name', rule: 'length', message: 'name must be 1-100 characters' });
    const scopes = input.scopes ?? ['read'];
    if (
      !Array.isArray(scopes) ||
      !scopes.length ||
      scopes.some((s) => !TOKEN_SCOPES.includes(s as TokenScope))
    )
      errors.push({
        field: 'scopes',
        rule: 'isIn',
        message: `scopes must be a non-empty list of ${TOKEN_SCOPES.join(', ')}`,
      });
    const max = this.policy.apiTokenMaxDays;
    const days = input.expiresInDays ?? Math.min(90, max);
    if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > max)
      errors.push({
        field: 'expiresInDays',
        rule: 'range',
        message: `expiresInDays must be a number in (0, ${max}]`,
      });
    if (errors.length) throw new ContractViolation(errors);
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const row = await this.repo.insertToken({
      id,
      operatorId,
      name,
      secretHash: this.hasher.hash(secret),
      scopes: [...new Set(scopes as string[])],
      expiresAt: new Date(Date.now() + (days as number) * 86_400_000),
    });
    return { ...tokenView(row), token: `${API_TOKEN_PREFIX}${id}_${secret}` };
  }

  /** The token's row when the token is valid; AUTH_* otherwise (stable codes, like peer credentials). */
  async resolveToken(token: string): Promise<TokenRow> {
    const m = TOKEN.exec(token);
    const row = m ? await this.repo.token(m[1]) : null;
    if (!m || !row) {
      this.hasher.dummyVerify(m?.[2] ?? token);
      throw new AuthError(ErrorCode.AUTH_INVALID, 'The API token was not accepted.');
    }
    if (!this.hasher.verify(m[2], row.secretHash))
      throw new AuthError(ErrorCode.AUTH_INVALID, 'The API token was not accepted.');
    if (row.revokedAt) throw new AuthError(ErrorCode.AUTH_REVOKED, 'The API token has been revoked.');
    if (new Date(row.expiresAt).getTime() <= Date.now())
      throw new AuthError(ErrorCode.AUTH_EXPIRED, 'The API token has expired.');
    if (!row.lastUsedAt || Date.now() - new Date(row.lastUsedAt).getTime() > TOUCH_EVERY_MS)
      await this.repo.touchToken(row.id);
    return row;
  }

  async tokens(operatorId: string) {
    return (await this.repo.tokensOf(operatorId)).map(tokenView);
  }

  async revokeToken(operatorId: string, id: string): Promise<void> {
    if (!(await this.repo.revokeToken(operatorId, id))) throw new NotFoundError(`No token ${id}.`);
  }
}
