import { AppConfig } from '@switchboard/config';
import { AuthError } from '@switchboard/contracts';
import { CredentialHasher } from '@switchboard/peer-auth';
import { SecretBox } from '@switchboard/secrets';
import { DataSource } from 'typeorm';
import { OperatorAccounts } from './operator-accounts.service';
import { OperatorRow, OperatorsRepository } from './operators.repository';
import { PasswordHasher } from './password-hasher';

const DAY = 86_400_000;

describe('OperatorAccounts: lockout, expiry, reuse', () => {
  const passwords = new PasswordHasher();
  const config = {
    peerAuth: { lockoutWindowSeconds: 900 },
    console: {
      operators: {
        passwordMaxAgeDays: 90,
        passwordHistory: 5,
        lockoutMaxFailures: 3,
        lockoutBaseSeconds: 30,
        lockoutMaxSeconds: 3600,
        totpRequiredRoles: ['admin'],
      },
    },
    alerts: { smtp: { host: '' } },
  } as unknown as AppConfig;
  let row: OperatorRow;
  let history: string[];
  let accounts: OperatorAccounts;
  let t: number;

  beforeAll(async () => {
    const hash = await passwords.hash('the-right-passphrase');
    row = {
      id: '0198a5f0-0000-7000-8000-000000000001',
      email: 'ops@example.com',
      name: 'Ops',
      role: 'supervisor',
      managerId: null,
      passwordHash: hash,
      passwordChangedAt: new Date(),
      mustChangePassword: false,
      totpSecret: null,
      totpPendingSecret: null,
      totpEnabledAt: null,
      disabledAt: null,
      createdAt: new Date(),
    };
    history = [hash];
  });

  beforeEach(() => {
    const repo = {
      byEmail: (email: string) => Promise.resolve(email === row.email ? row : null),
      recentPasswordHashes: (_: string, n: number) => Promise.resolve(history.slice(0, n)),
    } as unknown as OperatorsRepository;
    accounts = new OperatorAccounts(
      repo,
      passwords,
      new CredentialHasher(Buffer.alloc(32, 7)),
      {} as SecretBox,
      config,
      {} as DataSource,
    );
    t = Date.parse('2026-12-01T10:00:00Z');
    accounts.now = () => t;
  });

  const attempt = (password: string, ip = '10.0.0.1') =>
    accounts.authenticate('OPS@example.com', password, undefined, ip).then(
      () => 'ok',
      (e: AuthError) => `${e.code}${e.retryAfterSeconds ? ` ${e.retryAfterSeconds}s` : ''}`,
    );

  it('locks the account after 3 wrong passwords, even for the right one; the back-off doubles', async () => {
    for (let i = 0; i < 3; i++) expect(await attempt('wrong-passphrase')).toBe('AUTH_INVALID');
    expect(await attempt('the-right-passphrase')).toBe('AUTH_LOCKED 30s');
    expect(await attempt('the-right-passphrase', '10.9.9.9')).toBe('AUTH_LOCKED 30s'); // per account too
    t += 31_000;
    for (let i = 0; i < 3; i++) expect(await attempt('wrong-passphrase')).toBe('AUTH_INVALID');
    expect(await attempt('the-right-passphrase')).toBe('AUTH_LOCKED 60s');
    t += 61_000;
    expect(await attempt('the-right-passphrase')).toBe('ok');
  });

  it('an unknown email is refused like a wrong password and counts the same', async () => {
    const unknown = () =>
      accounts
        .authenticate('nobody@example.com', 'whatever-passphrase', undefined, '10.0.0.2')
        .catch((e: AuthError) => e.code);
    expect(await unknown()).toBe('AUTH_INVALID');
    expect(await unknown()).toBe('AUTH_INVALID');
    expect(await unknown()).toBe('AUTH_INVALID');
    expect(await unknown()).toBe('AUTH_LOCKED');
  });

  it('asks for a password change after passwordMaxAgeDays, and for TOTP enrolment where the role needs it', () => {
    const now = Date.now();
    expect(accounts.pendingStep({ ...row, passwordChangedAt: new Date(now - 89 * DAY) }, now)).toBeNull();
    expect(accounts.pendingStep({ ...row, passwordChangedAt: new Date(now - 90 * DAY) }, now)).toBe(
      'change-password',
    );
    expect(accounts.pendingStep({ ...row, mustChangePassword: true }, now)).toBe('change-password');
    expect(accounts.pendingStep({ ...row, role: 'admin', passwordChangedAt: new Date(now) }, now)).toBe(
      'enrol-totp',
    );
    expect(
      accounts.pendingStep(
        { ...row, role: 'admin', passwordChangedAt: new Date(now), totpEnabledAt: new Date() },
        now,
      ),
    ).toBeNull();
  });

  it('refuses one of the last passwords, whatever else is right about it', async () => {
    await expect(accounts.assertAcceptable('the-right-passphrase', row)).rejects.toMatchObject({
      code: 'PASSWORD_REUSED',
    });
    await expect(accounts.assertAcceptable('a-fresh-passphrase-9', row)).resolves.toBe(
      'a-fresh-passphrase-9',
    );
  });
});
