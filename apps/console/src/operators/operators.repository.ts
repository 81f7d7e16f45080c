import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { OperatorRole } from './operator';

export interface OperatorRow {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  managerId: string | null;
  passwordHash: string;
  passwordChangedAt: Date;
  mustChangePassword: boolean;
  /** Sealed under the master keyring (SecretBox); null until enrolment is confirmed. */
  totpSecret: string | null;
  totpPendingSecret: string | null;
  totpEnabledAt: Date | null;
  disabledAt: Date | null;
  createdAt: Date;
}

/** What the API shows of an operator: never a hash or a secret. */
export interface OperatorView {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  managerId: string | null;
  totpEnabled: boolean;
  passwordChangedAt: Date;
  disabled: boolean;
  createdAt: Date;
}

export const viewOf = (o: OperatorRow): OperatorView => ({
  id: o.id,
  email: o.email,
  name: o.name,
  role: o.role,
  managerId: o.managerId,
  totpEnabled: o.totpEnabledAt !== null,
  passwordChangedAt: o.passwordChangedAt,
  disabled: o.disabledAt !== null,
  createdAt: o.createdAt,
});

const COLUMNS = `id, email, name, role, manager_id, password_hash, password_changed_at, must_change_password,
  totp_secret, totp_pending_secret, totp_enabled_at, disabled_at, created_at`;

const toRow = (r: Record<string, unknown>): OperatorRow => ({
  id: r.id as string,
  email: r.email as string,
  name: r.name as string,
  role: r.role as OperatorRole,
  managerId: (r.manager_id as string | null) ?? null,
  passwordHash: r.password_hash as string,
  passwordChangedAt: r.password_changed_at as Date,
  mustChangePassword: r.must_change_password as boolean,
  totpSecret: (r.totp_secret as string | null) ?? null,
  totpPendingSecret: (r.totp_pending_secret as string | null) ?? null,
  totpEnabledAt: (r.totp_enabled_at as Date | null) ?? null,
  disabledAt: (r.disabled_at as Date | null) ?? null,
  createdAt: r.created_at as Date,
});

export interface SessionRow {
  id: string;
  operatorId: string;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  clientIp: string | null;
  userAgent: string | null;
}

export interface TokenRow {
  id: string;
  operatorId: string;
  name: string;
  secretHash: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** All SQL of operator accounts, sessions, codes and personal tokens. */
@Injectable()
export class OperatorsRepository {
  constructor(private readonly ds: DataSource) {}

  private q(em?: EntityManager) {
    return em ?? this.ds.manager;
  }

  async insert(
    o: Pick<OperatorRow, 'email' | 'name' | 'role' | 'managerId' | 'passwordHash' | 'mustChangePassword'>,
    em?: EntityManager,
  ): Promise<OperatorRow | null> {
    const rows: Array<Record<string, unknown>> = await this.q(em).query(
      `INSERT INTO operators (email, name, role, manager_id, password_hash, must_change_password)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
      [o.email, o.name, o.role, o.managerId, o.passwordHash, o.mustChangePassword],
    );
    if (rows.length)
      await this.q(em).query(
        `INSERT INTO operator_password_history (operator_id, password_hash) VALUES ($1, $2)`,
        [rows[0].id, o.passwordHash],
      );
    return rows.length ? toRow(rows[0]) : null;
  }

  async byId(id: string, em?: EntityManager): Promise<OperatorRow | null> {
    const rows: Array<Record<string, unknown>> = await this.q(em).query(
      `SELECT ${COLUMNS} FROM operators WHERE id = $1`,
      [id],
    );
    return rows.length ? toRow(rows[0]) : null;
  }

  async byEmail(email: string): Promise<OperatorRow | null> {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT ${COLUMNS} FROM operators WHERE email = $1`,
      [email],
    );
    return rows.length ? toRow(rows[0]) : null;
  }

  async list(): Promise<OperatorRow[]> {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT ${COLUMNS} FROM operators ORDER BY created_at, id`,
    );
    return rows.map(toRow);
  }

  async count(): Promise<number> {
    const rows: Array<{ n: number }> = await this.ds.query(`SELECT count(*)::int AS n FROM operators`);
    return rows[0].n;
  }

  async update(
    id: string,
    change: Partial<Pick<OperatorRow, 'name' | 'role' | 'managerId' | 'disabledAt' | 'mustChangePassword'>>,
  ): Promise<OperatorRow | null> {
    const map: Array<[keyof typeof change, string]> = [
      ['name', 'name'],
      ['role', 'role'],
      ['managerId', 'manager_id'],
      ['disabledAt', 'disabled_at'],
      ['mustChangePassword', 'must_change_password'],
    ];
    const set = map.filter(([f]) => change[f] !== undefined);
    if (!set.length) return this.byId(id);
    const rows: Array<Record<string, unknown>> = returned(
      await this.ds.query(
        `UPDATE operators SET ${set.map(([, c], i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, ...set.map(([f]) => change[f])],
      ),
    );
    return rows.length ? toRow(rows[0]) : null;
  }

  /** The last `n` password hashes, newest first (the current one included). */
  async recentPasswordHashes(operatorId: string, n: number): Promise<string[]> {
    const rows: Array<{ password_hash: string }> = await this.ds.query(
      `SELECT password_hash FROM operator_password_history WHERE operator_id = $1 ORDER BY id DESC LIMIT $2`,
      [operatorId, n],
    );
    return rows.map((r) => r.password_hash);
  }

  async setPassword(operatorId: string, hash: string, mustChange: boolean): Promise<void> {
    await this.ds.transaction(async (em) => {
      await em.query(
        `UPDATE operators SET password_hash = $2, password_changed_at = now(), must_change_password = $3,
                updated_at = now() WHERE id = $1`,
        [operatorId, hash, mustChange],
      );
      await em.query(`INSERT INTO operator_password_history (operator_id, password_hash) VALUES ($1, $2)`, [
        operatorId,
        hash,
      ]);
    });
  }

  async setPendingTotp(operatorId: string, sealed: string): Promise<void> {
    await this.ds.query(`UPDATE operators SET totp_pending_secret = $2, updated_at = now() WHERE id = $1`, [
      operatorId,
      sealed,
    ]);
  }

  /** Makes the pending secret the active one and replaces the recovery codes, in one transaction. */
  async confirmTotp(operatorId: string, sealed: string, recoveryHashes: string[]): Promise<void> {
    await this.ds.transaction(async (em) => {
      await em.query(
        `UPDATE operators SET totp_secret = $2, totp_pending_secret = NULL, totp_enabled_at = now(),
                updated_at = now() WHERE id = $1`,
        [operatorId, sealed],
      );
      await em.query(`DELETE FROM operator_recovery_codes WHERE operator_id = $1`, [operatorId]);
      await em.query(
        `INSERT INTO operator_recovery_codes (operator_id, code_hash) SELECT $1, unnest($2::text[])`,
        [operatorId, recoveryHashes],
      );
    });
  }

  /** Spends one unused recovery code; false when there was none with this hash. */
  /** Takes a TOTP time step for a sign-in: false when this step or a later one was already used. */
  async useTotpStep(operatorId: string, step: number): Promise<boolean> {
    const rows = returned(
      await this.ds.query(
        `UPDATE operators SET totp_last_step = $2
          WHERE id = $1 AND COALESCE(totp_last_step, -1) < $2 RETURNING 1`,
        [operatorId, step],
      ),
    );
    return rows.length > 0;
  }

  async useRecoveryCode(operatorId: string, hash: string): Promise<boolean> {
    const rows = returned(
      await this.ds.query(
        `UPDATE operator_recovery_codes SET used_at = now()
          WHERE operator_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1`,
        [operatorId, hash],
      ),
    );
    return rows.length > 0;
  }

  async insertResetCode(operatorId: string, hash: string, expiresAt: Date): Promise<void> {
    await this.ds.query(
      `INSERT INTO operator_reset_codes (operator_id, code_hash, expires_at) VALUES ($1, $2, $3)`,
      [operatorId, hash, expiresAt],
    );
  }

  async useResetCode(operatorId: string, hash: string): Promise<boolean> {
    const rows = returned(
      await this.ds.query(
        `UPDATE operator_reset_codes SET used_at = now()
          WHERE operator_id = $1 AND code_hash = $2 AND used_at IS NULL AND expires_at > now() RETURNING 1`,
        [operatorId, hash],
      ),
    );
    return rows.length > 0;
  }

  // ---- sessions

  async insertSession(s: Omit<SessionRow, 'createdAt' | 'lastSeenAt'>): Promise<void> {
    await this.ds.query(
      `INSERT INTO operator_sessions (id, operator_id, csrf_token, expires_at, client_ip, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [s.id, s.operatorId, s.csrfToken, s.expiresAt, s.clientIp, s.userAgent],
    );
  }

  /** A live session: not revoked, before its absolute end, used within the idle time. */
  async liveSession(id: string, idleMinutes: number): Promise<SessionRow | null> {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT id, operator_id, csrf_token, created_at, last_seen_at, expires_at, host(client_ip) AS client_ip, user_agent
         FROM operator_sessions
        WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()
          AND last_seen_at > now() - make_interval(secs => $2::double precision * 60)`,
      [id, idleMinutes],
    );
    return rows.length ? toSession(rows[0]) : null;
  }

  async touchSession(id: string): Promise<void> {
    await this.ds.query(`UPDATE operator_sessions SET last_seen_at = now() WHERE id = $1`, [id]);
  }

  async sessionsOf(operatorId: string, idleMinutes: number): Promise<SessionRow[]> {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT id, operator_id, csrf_token, created_at, last_seen_at, expires_at, host(client_ip) AS client_ip, user_agent
         FROM operator_sessions
        WHERE operator_id = $1 AND revoked_at IS NULL AND expires_at > now()
          AND last_seen_at > now() - make_interval(secs => $2::double precision * 60)
        ORDER BY created_at DESC`,
      [operatorId, idleMinutes],
    );
    return rows.map(toSession);
  }

  /** Revokes the operator's sessions: those whose id starts with `prefix`, or all but `except`. */
  async revokeSessions(operatorId: string, f: { prefix?: string; except?: string }): Promise<number> {
    const rows = returned(
      await this.ds.query(
        `UPDATE operator_sessions SET revoked_at = now()
          WHERE operator_id = $1 AND revoked_at IS NULL
            AND ($2::text IS NULL OR starts_with(id, $2)) AND ($3::text IS NULL OR id <> $3) RETURNING 1`,
        [operatorId, f.prefix ?? null, f.except ?? null],
      ),
    );
    return rows.length;
  }

  // ---- personal API tokens

  async insertToken(t: Omit<TokenRow, 'createdAt' | 'lastUsedAt' | 'revokedAt'>): Promise<TokenRow> {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `INSERT INTO operator_tokens (id, operator_id, name, secret_hash, scopes, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [t.id, t.operatorId, t.name, t.secretHash, t.scopes, t.expiresAt],
    );
    return toToken(rows[0]);
  }

  async token(id: string): Promise<TokenRow | null> {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT * FROM operator_tokens WHERE id = $1`,
      [id],
    );
    return rows.length ? toToken(rows[0]) : null;
  }

  async tokensOf(operatorId: string): Promise<TokenRow[]> {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT * FROM operator_tokens WHERE operator_id = $1 ORDER BY created_at DESC`,
      [operatorId],
    );
    return rows.map(toToken);
  }

  async touchToken(id: string): Promise<void> {
    await this.ds.query(`UPDATE operator_tokens SET last_used_at = now() WHERE id = $1`, [id]);
  }

  async revokeToken(operatorId: string, id: string): Promise<boolean> {
    const rows = returned(
      await this.ds.query(
        `UPDATE operator_tokens SET revoked_at = now() WHERE operator_id = $1 AND id = $2 AND revoked_at IS NULL
         RETURNING 1`,
        [operatorId, id],
      ),
    );
    return rows.length > 0;
  }
}

/** pg returns [rows, count] for UPDATE ... RETURNING through typeorm's query(). */
function returned(result: unknown): Array<Record<string, unknown>> {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  )
    return result[0] as Array<Record<string, unknown>>;
  return result as Array<Record<string, unknown>>;
}

const toSession = (r: Record<string, unknown>): SessionRow => ({
  id: r.id as string,
  operatorId: r.operator_id as string,
  csrfToken: r.csrf_token as string,
  createdAt: r.created_at as Date,
  lastSeenAt: r.last_seen_at as Date,
  expiresAt: r.expires_at as Date,
  clientIp: (r.client_ip as string | null) ?? null,
  userAgent: (r.user_agent as string | null) ?? null,
});

const toToken = (r: Record<string, unknown>): TokenRow => ({
  id: r.id as string,
  operatorId: r.operator_id as string,
  name: r.name as string,
  secretHash: r.secret_hash as string,
  scopes: r.scopes as string[],
  createdAt: r.created_at as Date,
  expiresAt: r.expires_at as Date,
  lastUsedAt: (r.last_used_at as Date | null) ?? null,
  revokedAt: (r.revoked_at as Date | null) ?? null,
});
