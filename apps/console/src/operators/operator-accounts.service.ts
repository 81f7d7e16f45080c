import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  AuthError,
  ConflictError,
  ContractViolation,
  DomainError,
  ErrorCode,
  NotFoundError,
} from '@switchboard/contracts';
import { CredentialHasher, FailureTracker } from '@switchboard/peer-auth';
import { SecretBox } from '@switchboard/secrets';
import { randomBytes, randomInt } from 'node:crypto';
import { DataSource } from 'typeorm';
import { smtpMailer, type MailSender } from '../mail/mailer';
import { commonPasswords } from './common-passwords';
import { OPERATOR_ROLES, type OperatorRole } from './operator';
import { OperatorRow, OperatorsRepository, OperatorView, viewOf } from './operators.repository';
import { PasswordHasher } from './password-hasher';
import { checkPassword, MAX_PASSWORD_LENGTH } from './password-policy';
import {
  newRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  totpEnrolment,
  totpStep,
  verifyTotp,
} from './totp';

/** A domain refusal with one of the operator codes (policy, 2FA, reset); the HTTP edge maps the code. */
export class OperatorError extends DomainError {
  constructor(code: ErrorCode, message: string) {
    super(code, message, true);
  }
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_MS = 86_400_000;

/** What an operator must do before anything else: change an expired password, or enrol in two-factor. */
export type PendingStep = 'change-password' | 'enrol-totp' | null;

export interface NewOperator {
  email: string;
  name: string;
  role: OperatorRole;
  managerId?: string | null;
  password: string;
  mustChangePassword?: boolean;
}

const invalid = (field: string, rule: string, message: string) =>
  new ContractViolation([{ field, rule, message }]);

/**
 * Operator accounts: creation under the password policy, sign-in (argon2id, lockout with growing back-off per
 * account and per address, TOTP or a recovery code), password change and expiry, TOTP enrolment, and reset by a
 * one-time code sent by email. Lockout counters are per console process, like the gateway's.
 */
@Injectable()
export class OperatorAccounts {
  private readonly log = new Logger('OperatorAccounts');
  private readonly failures: FailureTracker;
  private readonly mail: MailSender | null;
  /** The lockout's clock; replaced in tests. */
  now: () => number = Date.now;
  /** argon2 of a random password: verified against when the email is unknown, so both cost the same. */
  private dummyHash: Promise<string>;

  constructor(
    private readonly repo: OperatorsRepository,
    private readonly passwords: PasswordHasher,
    private readonly hasher: CredentialHasher,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
    private readonly ds: DataSource,
  ) {
    const o = config.console.operators;
    this.failures = new FailureTracker(
      {
        peerMaxFailures: o.lockoutMaxFailures,
        // An address (office NAT) may hold several operators: four times the per-account allowance.
        ipMaxFailures: o.lockoutMaxFailures * 4,
        windowSeconds: config.peerAuth.lockoutWindowSeconds,
        baseSeconds: o.lockoutBaseSeconds,
        maxSeconds: o.lockoutMaxSeconds,
      },
      () => this.now(),
    );
    this.mail = config.alerts?.smtp?.host ? smtpMailer(config.alerts.smtp) : null;
    this.dummyHash = passwords.hash(randomBytes(16).toString('hex'));
  }

  private get policy() {
    return this.config.console.operators;
  }

  /** Refuses a new password with a reason code; checks the last `passwordHistory` passwords too. */
  async assertAcceptable(
    password: unknown,
    who: { id?: string; name: string; email: string },
  ): Promise<string> {
    if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH)
      throw invalid(
        'password',
        'isString',
        `password must be a string of at most ${MAX_PASSWORD_LENGTH} characters`,
      );
    const verdict = checkPassword(password, who, commonPasswords());
    if (verdict) throw new OperatorError(verdict.code, verdict.message);
    if (who.id && this.policy.passwordHistory > 0) {
      for (const old of await this.repo.recentPasswordHashes(who.id, this.policy.passwordHistory))
        if (await this.passwords.verify(password, old))
          throw new OperatorError(
            ErrorCode.PASSWORD_REUSED,
            `The password is one of your last ${this.policy.passwordHistory}; choose a new one.`,
          );
    }
    return password;
  }

  async create(input: NewOperator): Promise<OperatorView> {
    const email = String(input.email ?? '')
      .trim()
      .toLowerCase();
    const name = String(input.name ?? '').trim();
    if (!EMAIL.test(email)) throw invalid('email', 'isEmail', 'email must be an email address');
    if (!name || name.length > 200) throw invalid('name', 'length', 'name must be 1-200 characters');
    if (!OPERATOR_ROLES.includes(input.role))
      throw invalid('role', 'isIn', `role must be one of ${OPERATOR_ROLES.join(', ')}`);
    const managerId = input.managerId ?? null;
    if (input.role === 'manager' && !managerId)
      throw invalid('managerId', 'required', 'a manager operator needs managerId (its row in managers)');
    if (managerId !== null) await this.mustBeManager(managerId);
    await this.assertAcceptable(input.password, { name, email });
    const row = await this.repo.insert({
      email,
      name,
      role: input.role,
      managerId,
      passwordHash: await this.passwords.hash(input.password),
      mustChangePassword: input.mustChangePassword ?? false,
    });
    if (!row) throw new ConflictError(`An operator with email ${email} exists.`);
    this.log.log(`operator ${row.id} (${row.role}) created`);
    return viewOf(row);
  }

  async update(
    id: string,
    change: { name?: string; role?: OperatorRole; managerId?: string | null; disabled?: boolean },
  ): Promise<OperatorView> {
    const current = await this.get(id);
    if (change.role !== undefined && !OPERATOR_ROLES.includes(change.role))
      throw invalid('role', 'isIn', `role must be one of ${OPERATOR_ROLES.join(', ')}`);
    if (change.managerId) await this.mustBeManager(change.managerId);
    const role = change.role ?? current.role;
    const managerId = change.managerId !== undefined ? change.managerId : current.managerId;
    if (role === 'manager' && !managerId)
      throw invalid('managerId', 'required', 'a manager operator needs managerId (its row in managers)');
    const row = await this.repo.update(id, {
      name: change.name,
      role: change.role,
      managerId: change.managerId,
      disabledAt: change.disabled === undefined ? undefined : change.disabled ? new Date() : null,
    });
    if (change.disabled) await this.repo.revokeSessions(id, {});
    return viewOf(row!);
  }

  async get(id: string): Promise<OperatorRow> {
    const row = UUID.test(id) ? await this.repo.byId(id) : null;
    if (!row) throw new NotFoundError(`No operator ${id}.`);
    return row;
  }

  async list(): Promise<OperatorView[]> {
    return (await this.repo.list()).map(viewOf);
  }

  /** What the operator must do before using the console, from the stored state and the current policy. */
  pendingStep(o: OperatorRow, now = Date.now()): PendingStep {
    const maxAge = this.policy.passwordMaxAgeDays;
    if (
      o.mustChangePassword ||
      (maxAge > 0 && new Date(o.passwordChangedAt).getTime() + maxAge * DAY_MS <= now)
    )
      return 'change-password';
    if (this.policy.totpRequiredRoles.includes(o.role) && !o.totpEnabledAt) return 'enrol-totp';
    return null;
  }

  /**
   * Checks email + password (+ TOTP code or recovery code when enrolled). Every failure counts towards the
   * lockout of the account and of the address; a locked one is refused before any check (AUTH_LOCKED,
   * Retry-After). A missing second factor is TOTP_REQUIRED and counts as nothing (the password was right).
   */
  async authenticate(
    email: unknown,
    password: unknown,
    secondFactor: unknown,
    ip: string,
  ): Promise<OperatorRow> {
    const mail = typeof email === 'string' ? email.trim().toLowerCase() : '';
    const keys = this.unlessLocked(mail, ip, 'Too many failed sign-ins; wait before trying again.');
    const refuse = () => {
      this.failures.record(keys);
      return new AuthError(ErrorCode.AUTH_INVALID, 'Wrong email or password.');
    };
    if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH || !mail) throw refuse();
    const row = await this.repo.byEmail(mail);
    if (!row) {
      await this.passwords.verify(password, await this.dummyHash);
      throw refuse();
    }
    if (!(await this.passwords.verify(password, row.passwordHash))) throw refuse();
    if (row.disabledAt) throw new AuthError(ErrorCode.AUTH_REVOKED, 'This operator account is disabled.');
    if (row.totpSecret) await this.checkSecondFactor(row, secondFactor, ip);
    return row;
  }

  /**
   * The second step of a sign-in whose password was right: a TOTP code (or an unused recovery code) when the
   * operator is enrolled. Missing: TOTP_REQUIRED (not a failure); wrong: TOTP_INVALID, counted for the lockout.
   */
  async checkSecondFactor(row: OperatorRow, secondFactor: unknown, ip: string): Promise<void> {
    if (!row.totpSecret) return;
    const keys = this.unlessLocked(row.email, ip, 'Too many failed sign-ins; wait before trying again.');
    const code = typeof secondFactor === 'string' ? secondFactor.trim() : '';
    if (!code)
      throw new OperatorError(ErrorCode.TOTP_REQUIRED, 'Send the code from your authenticator app as totp.');
    const secret = this.box.openString(row.totpSecret, `operator-totp:${row.id}`);
    const step = totpStep(secret, code);
    const ok = /^\d{6}$/.test(code)
      ? step !== null && (await this.repo.useTotpStep(row.id, step)) // a code signs in once
      : await this.repo.useRecoveryCode(row.id, this.hasher.hash(normalizeRecoveryCode(code)));
    if (!ok) {
      this.failures.record(keys);
      throw new OperatorError(ErrorCode.TOTP_INVALID, 'The one-time code was not accepted.');
    }
  }

  /**
   * The failure keys of a sign-in, second factor or reset attempt (the account's email and the source address),
   * refusing with AUTH_LOCKED while either is locked out.
   */
  private unlessLocked(email: string, ip: string, message: string): string[] {
    const keys = [`peer:${email}`, `ip:${ip}`];
    const locked = this.failures.lockedFor(keys);
    if (locked > 0) throw new AuthError(ErrorCode.AUTH_LOCKED, message, locked);
    return keys;
  }

  /** Changes the password: the current one must be given; the new one passes the policy and is not reused. */
  async changePassword(operatorId: string, current: unknown, next: unknown): Promise<void> {
    const row = await this.get(operatorId);
    if (typeof current !== 'string' || !(await this.passwords.verify(current, row.passwordHash)))
      throw new AuthError(ErrorCode.AUTH_INVALID, 'The current password is wrong.');
    const password = await this.assertAcceptable(next, row);
    await this.repo.setPassword(row.id, await this.passwords.hash(password), false);
  }

  /** Starts (or restarts) TOTP enrolment: a new secret, kept pending until a code from it is confirmed. */
  async startTotp(operatorId: string) {
    const row = await this.get(operatorId);
    const secret = newTotpSecret();
    await this.repo.setPendingTotp(row.id, this.box.seal(secret, `operator-totp:${row.id}`));
    return totpEnrolment(secret, row.email);
  }

  /** Confirms enrolment with a code from the app; returns the recovery codes (shown once, stored hashed). */
  async confirmTotp(operatorId: string, code: unknown): Promise<{ recoveryCodes: string[] }> {
    const row = await this.get(operatorId);
    if (!row.totpPendingSecret)
      throw new OperatorError(ErrorCode.TOTP_INVALID, 'Start enrolment first (POST /v1/auth/totp/enrol).');
    const sealed = row.totpPendingSecret;
    const secret = this.box.openString(sealed, `operator-totp:${row.id}`);
    if (typeof code !== 'string' || !verifyTotp(secret, code.trim()))
      throw new OperatorError(ErrorCode.TOTP_INVALID, 'The one-time code does not match the new secret.');
    const recoveryCodes = newRecoveryCodes();
    await this.repo.confirmTotp(
      row.id,
      sealed,
      recoveryCodes.map((c) => this.hasher.hash(normalizeRecoveryCode(c))),
    );
    return { recoveryCodes };
  }

  /**
   * Mails a one-time reset code when the email belongs to an active operator. The answer is the same either
   * way (no account discovery). Without alerts.smtp configured the code cannot be sent, which is logged.
   */
  async requestReset(email: unknown): Promise<void> {
    const mail = typeof email === 'string' ? email.trim().toLowerCase() : '';
    const row = mail ? await this.repo.byEmail(mail) : null;
    if (!row || row.disabledAt) return;
    const code = String(randomInt(0, 100_000_000)).padStart(8, '0');
    const minutes = this.policy.resetCodeMinutes;
    await this.repo.insertResetCode(
      row.id,
      this.hasher.hash(`${row.id}:${code}`),
      new Date(Date.now() + minutes * 60_000),
    );
    if (!this.mail) {
      this.log.warn(
        `password reset requested for operator ${row.id}, but alerts.smtp is not configured: no mail sent`,
      );
      return;
    }
    await this.mail({
      from: this.config.alerts.smtp.from,
      to: [row.email],
      subject: 'Switchboard password reset code',
      text:
        `Your password reset code is ${code}\n\nIt is valid for ${minutes} minutes and can be used once. ` +
        'If you did not ask for it, ignore this message.\n',
    }).catch((err: Error) =>
      this.log.error(`password reset mail to operator ${row.id} failed: ${err.message}`),
    );
  }

  /** Sets a new password with a mailed code; ends every session of the operator. */
  async confirmReset(email: unknown, code: unknown, password: unknown, ip: string): Promise<void> {
    const mail = typeof email === 'string' ? email.trim().toLowerCase() : '';
    const keys = this.unlessLocked(mail, ip, 'Too many failed attempts; wait before trying again.');
    const row = mail ? await this.repo.byEmail(mail) : null;
    const wrong = () => {
      this.failures.record(keys);
      return new OperatorError(ErrorCode.RESET_CODE_INVALID, 'The reset code is wrong, used or expired.');
    };
    if (!row || typeof code !== 'string' || !/^\d{8}$/.test(code.trim())) throw wrong();
    const newPassword = await this.assertAcceptable(password, row);
    if (!(await this.repo.useResetCode(row.id, this.hasher.hash(`${row.id}:${code.trim()}`)))) throw wrong();
    await this.repo.setPassword(row.id, await this.passwords.hash(newPassword), false);
    await this.repo.revokeSessions(row.id, {});
  }

  private async mustBeManager(id: string): Promise<void> {
    const rows: unknown[] = UUID.test(id)
      ? await this.ds.query(`SELECT 1 FROM managers WHERE id = $1`, [id])
      : [];
    if (!rows.length) throw invalid('managerId', 'exists', `no manager ${id}`);
  }
}
