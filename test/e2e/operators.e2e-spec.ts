import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmtpServer, TestSmtpServer } from '../support/smtp';
import { eventually, TestSystem } from './support/system';
import { totpForSignIn, totpNow } from './support/totp';

/**
 * Issue 17 parts 1-3 acceptance (API): operator accounts and the password policy (weak, common, identity and
 * reused passwords refused with their codes), lockout with back-off and recovery, an expired password forcing a
 * change, TOTP enrolment and sign-in, reset by a mailed code, cookie sessions with CSRF, personal tokens, and
 * every role's allowed and forbidden routes from one table, with a manager seeing only its own rows.
 */
const PASSWORD = 'correct-horse-battery-staple';

interface Session {
  cookie: string;
  csrf: string;
}

describe('operators: accounts, sessions, roles', () => {
  let sys: TestSystem;
  let relay: TestSmtpServer;
  let dir: string;
  const managers: Record<string, string> = {};
  const sessions: Record<string, Session> = {};
  const leads: Record<string, string> = {};
  let adminSecret = '';
  const adminTotpSecret = () => Promise.resolve(adminSecret);

  const url = (path: string) => `${sys.app('console').url}${path}`;

  async function call(
    method: string,
    path: string,
    opts: {
      session?: Session;
      body?: unknown;
      csrf?: boolean;
      bearer?: string;
      form?: Record<string, string>;
    } = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const headers: Record<string, string> = {};
    if (opts.session) headers.cookie = `sb_session=${opts.session.cookie}`;
    if (opts.session && opts.csrf !== false && method !== 'GET') headers['x-csrf-token'] = opts.session.csrf;
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    let body: string | undefined;
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(opts.form).toString();
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(url(path), { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* HTML or empty */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  async function login(email: string, password = PASSWORD, totp?: string) {
    const res = await call('POST', '/v1/auth/login', { body: { email, password, totp } });
    const cookie = /sb_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
    return { ...res, session: { cookie, csrf: res.body?.csrfToken as string } };
  }

  async function createOperator(email: string, role: string, extra: Record<string, unknown> = {}) {
    const res = await sys.consoleCall('POST', '/v1/admin/operators', {
      email,
      name: email.split('@')[0].replace(/\d/g, ''),
      role,
      password: PASSWORD,
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  beforeAll(async () => {
    relay = await startSmtpServer('mailer', 'mail-pass');
    dir = mkdtempSync(join(tmpdir(), 'sb-operators-'));
    writeFileSync(join(dir, 'relay-ca.pem'), relay.cert);
    sys = new TestSystem('operators', {
      OPERATOR_LOCKOUT_MAX_FAILURES: '3',
      OPERATOR_LOCKOUT_BASE_SECONDS: '1',
      OPERATOR_TOTP_REQUIRED_ROLES: '["admin"]',
      CONSOLE_COOKIE_SECURE: 'false',
      ACCESS_LOG_FLUSH_INTERVAL_MS: '100',
      ALERTS_EVALUATE_INTERVAL_SECONDS: '1',
      ALERTS_ADMIN_TOKEN_USE_MINUTES: '60',
      ALERTS_SMTP_HOST: '127.0.0.1',
      ALERTS_SMTP_PORT: String(relay.port),
      ALERTS_SMTP_USER: 'mailer',
      ALERTS_SMTP_PASS: 'mail-pass',
      ALERTS_SMTP_FROM: 'switchboard@sb.test',
      ALERTS_SMTP_TO: 'ops@sb.test',
      NODE_EXTRA_CA_CERTS: join(dir, 'relay-ca.pem'),
    });
    await sys.start(['console']);
    for (const name of ['Anna', 'Boris']) {
      const res = await sys.consoleCall('POST', '/v1/admin/managers', { name });
      expect(res.status).toBe(201);
      managers[name] = res.body.id;
    }
    const lead = async (manager: string | null, status: string) =>
      (
        await sys.sql<{ id: string }>(
          `INSERT INTO leads (source_channel, status, responsible_manager_id, name, phone)
           VALUES ('website', $1, $2, 'Customer', '+79990000000') RETURNING id`,
          [status, manager],
        )
      )[0].id;
    leads.anna = await lead(managers.Anna, 'in_progress');
    leads.boris = await lead(managers.Boris, 'in_progress');
    leads.unassigned = await lead(null, 'new');
  });

  afterAll(async () => {
    await sys?.destroy();
    await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses weak, common and identity passwords with their codes, and creates nothing', async () => {
    const base = { email: 'weak@sb.test', name: 'Walter White', role: 'supervisor' };
    const cases: Array<[string, string]> = [
      ['short-pass', 'PASSWORD_TOO_SHORT'],
      ['1qaz2wsx3edc', 'PASSWORD_COMMON'],
      ['Q1W2E3R4T5Y6', 'PASSWORD_COMMON'],
      ['my-walter-is-great', 'PASSWORD_CONTAINS_IDENTITY'],
      ['xx-weak@sb.test-xx', 'PASSWORD_CONTAINS_IDENTITY'],
    ];
    for (const [password, code] of cases) {
      const res = await sys.consoleCall('POST', '/v1/admin/operators', { ...base, password });
      expect({ password, status: res.status, code: res.body.code }).toEqual({ password, status: 400, code });
    }
    const bad = await sys.consoleCall('POST', '/v1/admin/operators', {
      ...base,
      role: 'manager',
      password: PASSWORD,
    });
    expect(bad.body.code).toBe('VALIDATION_FAILED'); // a manager operator needs its managers row
    expect(await sys.sql(`SELECT 1 FROM operators`)).toEqual([]);
  });

  it('enrols the admin in TOTP (required for its role) and signs in with password + code', async () => {
    await createOperator('admin@sb.test', 'admin');
    const first = await login('admin@sb.test');
    expect(first.status).toBe(200);
    expect(first.body.next).toBe('enrol-totp');
    // Until enrolled, only its own-account routes answer.
    const blocked = await call('GET', '/v1/admin/operators', { session: first.session });
    expect([blocked.status, blocked.body.code]).toEqual([403, 'TOTP_ENROLMENT_REQUIRED']);

    const enrol = await call('POST', '/v1/auth/totp/enrol', { session: first.session });
    expect(enrol.status).toBe(200);
    expect(enrol.body.uri).toMatch(/^otpauth:\/\/totp\/Switchboard:admin%40sb\.test\?.*secret=[A-Z2-7]+/);
    expect(enrol.body.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    const wrong = await call('POST', '/v1/auth/totp/confirm', {
      session: first.session,
      body: { code: '000000' },
    });
    expect(wrong.body.code).toBe('TOTP_INVALID');
    const confirmed = await call('POST', '/v1/auth/totp/confirm', {
      session: first.session,
      body: { code: totpNow(enrol.body.secret as string) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recoveryCodes).toHaveLength(10);
    adminSecret = enrol.body.secret as string;
    const stored = await sys.sql<{ code_hash: string }>(`SELECT code_hash FROM operator_recovery_codes`);
    expect(stored).toHaveLength(10);
    expect(stored.map((r) => r.code_hash)).not.toContain(confirmed.body.recoveryCodes[0]);

    const noCode = await login('admin@sb.test');
    expect([noCode.status, noCode.body.code]).toEqual([401, 'TOTP_REQUIRED']);
    const code = await totpForSignIn(enrol.body.secret as string);
    const ok = await login('admin@sb.test', PASSWORD, code);
    expect([ok.status, ok.body.next]).toEqual([200, null]);
    expect(ok.headers.get('set-cookie')).toMatch(/sb_session=[^;]+;.*HttpOnly/i);
    expect(ok.headers.get('set-cookie')).toMatch(/SameSite=Strict/i);
    sessions.admin = ok.session;
    // One code, one sign-in (RFC 6238 §5.2): the same code again, still within its validity, is refused.
    const replayed = await login('admin@sb.test', PASSWORD, code);
    expect([replayed.status, replayed.body.code]).toEqual([401, 'TOTP_INVALID']);
    // A recovery code stands in for the TOTP code, once.
    const recovery = confirmed.body.recoveryCodes[0] as string;
    expect((await login('admin@sb.test', PASSWORD, recovery)).status).toBe(200);
    expect((await login('admin@sb.test', PASSWORD, recovery)).body.code).toBe('TOTP_INVALID');
  });

  it('signs in the other roles', async () => {
    await createOperator('super@sb.test', 'supervisor');
    await createOperator('anna@sb.test', 'manager', { managerId: managers.Anna });
    await createOperator('audit@sb.test', 'auditor');
    for (const [role, email] of [
      ['supervisor', 'super@sb.test'],
      ['manager', 'anna@sb.test'],
      ['auditor', 'audit@sb.test'],
    ]) {
      const res = await login(email);
      expect([role, res.status, res.body.next]).toEqual([role, 200, null]);
      sessions[role] = res.session;
    }
  });

  it('enforces every role on its routes (one table)', async () => {
    const L = () => leads;
    // [method, path, body, admin, supervisor, manager, auditor]
    const table: Array<[string, () => string, unknown, number, number, number, number]> = [
      ['GET', () => '/v1/crm/contacts', undefined, 200, 200, 200, 200],
      ['GET', () => '/v1/crm/deals', undefined, 200, 200, 200, 200],
      ['GET', () => '/v1/crm/calls', undefined, 200, 200, 200, 200],
      ['GET', () => '/v1/crm/leads', undefined, 200, 200, 200, 200],
      ['GET', () => `/v1/crm/leads/${L().anna}`, undefined, 200, 200, 200, 200],
      ['GET', () => `/v1/crm/leads/${L().boris}`, undefined, 200, 200, 404, 200],
      ['POST', () => `/v1/crm/leads/${L().boris}/refuse`, { reason: 'no-such-reason' }, 400, 400, 400, 403],
      ['POST', () => `/v1/crm/leads/${L().boris}/reopen`, undefined, 409, 409, 404, 403],
      ['POST', () => `/v1/crm/leads/${L().anna}/reopen`, undefined, 409, 409, 409, 403],
      ['POST', () => `/v1/crm/leads/${L().anna}/assign`, { managerId: 'x' }, 400, 400, 403, 403],
      ['GET', () => '/v1/crm/tasks', undefined, 200, 200, 200, 200],
      ['POST', () => '/v1/crm/tasks', { kind: 'nope' }, 400, 400, 400, 403],
      ['GET', () => '/v1/crm/products', undefined, 200, 200, 403, 200],
      ['GET', () => '/v1/admin/managers', undefined, 200, 200, 403, 200],
      ['POST', () => '/v1/admin/managers', { name: '' }, 400, 400, 403, 403],
      ['GET', () => '/v1/admin/alerts', undefined, 200, 200, 403, 200],
      ['GET', () => '/v1/admin/peers', undefined, 200, 403, 403, 200],
      ['POST', () => '/v1/admin/peers', {}, 400, 403, 403, 403],
      ['GET', () => '/v1/admin/access-log', undefined, 200, 403, 403, 200],
      ['GET', () => '/v1/admin/operators', undefined, 200, 403, 403, 403],
      ['POST', () => '/v1/admin/operators', {}, 400, 403, 403, 403],
      ['GET', () => '/v1/auth/sessions', undefined, 200, 200, 200, 200],
      ['GET', () => '/v1/auth/me', undefined, 200, 200, 200, 200],
    ];
    const roles = ['admin', 'supervisor', 'manager', 'auditor'] as const;
    const expected: string[] = [];
    const actual: string[] = [];
    for (const [method, path, body, ...statuses] of table) {
      for (const [i, role] of roles.entries()) {
        const res = await call(method, path(), { session: sessions[role], body });
        // A 403 is the role's refusal (ROLE_FORBIDDEN), not some other one.
        const forbidden = (status: number, code?: string) => (status === 403 ? ` ${code}` : '');
        expected.push(
          `${method} ${path()} ${role} -> ${statuses[i]}${forbidden(statuses[i], 'ROLE_FORBIDDEN')}`,
        );
        actual.push(`${method} ${path()} ${role} -> ${res.status}${forbidden(res.status, res.body?.code)}`);
      }
    }
    expect(actual).toEqual(expected);
  });

  it('a manager sees only its own leads (and the unassigned ones to claim) and claims for itself', async () => {
    const list = await call('GET', '/v1/crm/leads', { session: sessions.manager });
    const ids = (list.body.items as Array<{ id: string }>).map((l) => l.id).sort();
    expect(ids).toEqual([leads.anna, leads.unassigned].sort());
    const asked = await call('GET', `/v1/crm/leads?managerId=${managers.Boris}`, {
      session: sessions.manager,
    });
    expect(asked.body.items).toEqual([]);
    const all = await call('GET', '/v1/crm/leads', { session: sessions.supervisor });
    expect(all.body.items).toHaveLength(3);

    const claimed = await call('POST', `/v1/crm/leads/${leads.unassigned}/claim`, {
      session: sessions.manager,
    });
    expect(claimed.status).toBe(200);
    expect(claimed.body.responsibleManagerId).toBe(managers.Anna);
  });

  it('refuses a state-changing cookie request without the CSRF token; accepts the _csrf form field', async () => {
    const none = await call('POST', '/v1/crm/tasks', { session: sessions.supervisor, body: {}, csrf: false });
    expect([none.status, none.body.code]).toEqual([403, 'CSRF_INVALID']);
    const wrong = await call('POST', '/v1/crm/tasks', {
      session: { ...sessions.supervisor, csrf: 'not-the-token' },
      body: {},
    });
    expect(wrong.body.code).toBe('CSRF_INVALID');
    const form = await call('POST', '/v1/crm/tasks', {
      session: sessions.supervisor,
      csrf: false,
      form: { _csrf: sessions.supervisor.csrf, kind: 'nope' },
    });
    expect(form.body.code).toBe('VALIDATION_FAILED'); // past the CSRF check
  });

  it('personal API tokens: scoped, hashed, revocable; Bearer requests need no CSRF token', async () => {
    const created = await call('POST', '/v1/auth/tokens', {
      session: sessions.supervisor,
      body: { name: 'script', scopes: ['read'], expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect(token).toMatch(/^sbp_[0-9a-f]{12}_/);
    const stored = await sys.sql<{ secret_hash: string }>(`SELECT secret_hash FROM operator_tokens`);
    expect(stored[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(token.slice(17));
    expect((await call('GET', '/v1/crm/leads', { bearer: token })).status).toBe(200);
    const write = await call('POST', '/v1/crm/tasks', { bearer: token, body: {} });
    expect([write.status, write.body.code]).toEqual([403, 'ROLE_FORBIDDEN']);
    expect((await call('GET', '/v1/admin/peers', { bearer: token })).status).toBe(403);
    await call('DELETE', `/v1/auth/tokens/${created.body.id}`, { session: sessions.supervisor });
    const revoked = await call('GET', '/v1/crm/leads', { bearer: token });
    expect([revoked.status, revoked.body.code]).toEqual([401, 'AUTH_REVOKED']);
  });

  it('locks an account out after repeated wrong passwords, with a growing back-off, then lets it in', async () => {
    for (let i = 0; i < 3; i++)
      expect((await login('audit@sb.test', 'wrong-password-123')).body.code).toBe('AUTH_INVALID');
    const locked = await login('audit@sb.test');
    expect([locked.status, locked.body.code]).toEqual([429, 'AUTH_LOCKED']);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Recovery: once the back-off has passed, the right password works again.
    expect(await eventually(async () => (await login('audit@sb.test')).status === 200, 10_000, 250)).toBe(
      true,
    );
  });

  it('refuses a reused password, forces a change when the password expired, and ends other sessions', async () => {
    const other = await login('super@sb.test');
    const reused = await call('POST', '/v1/auth/password', {
      session: sessions.supervisor,
      body: { current: PASSWORD, password: PASSWORD },
    });
    expect([reused.status, reused.body.code]).toEqual([400, 'PASSWORD_REUSED']);

    await sys.sql(
      `UPDATE operators SET password_changed_at = now() - interval '91 days' WHERE email = 'super@sb.test'`,
    );
    const expired = await call('GET', '/v1/crm/leads', { session: sessions.supervisor });
    expect([expired.status, expired.body.code]).toEqual([403, 'PASSWORD_CHANGE_REQUIRED']);
    expect((await login('super@sb.test')).body.next).toBe('change-password');

    const changed = await call('POST', '/v1/auth/password', {
      session: sessions.supervisor,
      body: { current: PASSWORD, password: 'a-brand-new-passphrase' },
    });
    expect(changed.status).toBe(200);
    expect((await call('GET', '/v1/crm/leads', { session: sessions.supervisor })).status).toBe(200);
    expect((await call('GET', '/v1/crm/leads', { session: other.session })).body.code).toBe('AUTH_EXPIRED');
    const back = await call('POST', '/v1/auth/password', {
      session: sessions.supervisor,
      body: { current: 'a-brand-new-passphrase', password: PASSWORD },
    });
    expect(back.body.code).toBe('PASSWORD_REUSED');
  });

  it('resets a password with a one-time code sent by email', async () => {
    const asked = await call('POST', '/v1/auth/reset/request', { body: { email: 'audit@sb.test' } });
    expect(asked.status).toBe(202);
    const unknown = await call('POST', '/v1/auth/reset/request', { body: { email: 'nobody@sb.test' } });
    expect(unknown.status).toBe(202);
    // The relay also gets alert mail (ops@sb.test): only what was sent to the operators counts here.
    const toOperators = () =>
      relay.received.filter((m) => m.to.some((t) => t.endsWith('@sb.test') && t !== 'ops@sb.test'));
    const mail = await eventually(async () => toOperators()[0], 15_000);
    expect(mail.to).toEqual(['audit@sb.test']);
    const code = /reset code is (\d{8})/.exec(mail.raw)?.[1];
    expect(code).toBeDefined();
    const bad = await call('POST', '/v1/auth/reset/confirm', {
      body: { email: 'audit@sb.test', code: '00000000', password: 'reset-passphrase-ok' },
    });
    expect(bad.body.code).toBe('RESET_CODE_INVALID');
    const ok = await call('POST', '/v1/auth/reset/confirm', {
      body: { email: 'audit@sb.test', code, password: 'reset-passphrase-ok' },
    });
    expect(ok.status).toBe(200);
    expect((await login('audit@sb.test', 'reset-passphrase-ok')).status).toBe(200);
    const again = await call('POST', '/v1/auth/reset/confirm', {
      body: { email: 'audit@sb.test', code, password: 'another-passphrase-1' },
    });
    expect(again.body.code).toBe('RESET_CODE_INVALID');
    expect(toOperators()).toHaveLength(1); // nothing was sent for the unknown email
  });

  it('lists and revokes own sessions; logout ends the session', async () => {
    const extra = await login('anna@sb.test');
    const list = await call('GET', '/v1/auth/sessions', { session: sessions.manager });
    const other = (list.body.items as Array<{ id: string; current: boolean }>).find((s) => !s.current)!;
    expect(list.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(
      (await call('DELETE', `/v1/auth/sessions/${other.id}`, { session: sessions.manager })).status,
    ).toBe(200);
    expect((await call('GET', '/v1/auth/me', { session: extra.session })).body.code).toBe('AUTH_EXPIRED');
    expect((await call('POST', '/v1/auth/logout', { session: sessions.manager })).status).toBe(200);
    expect((await call('GET', '/v1/auth/me', { session: sessions.manager })).body.code).toBe('AUTH_EXPIRED');
  });

  it('CLI: operators create prints a one-time password that must be changed at the first sign-in', async () => {
    const out = await sys.cli('operators', 'create', '--email', 'Boot@SB.test', '--role', 'auditor');
    expect(out.operator).toMatchObject({ email: 'boot@sb.test', role: 'auditor', totpEnabled: false });
    expect(out.oneTimePassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const first = await login('boot@sb.test', out.oneTimePassword as string);
    expect(first.body.next).toBe('change-password');
    const blocked = await call('GET', '/v1/crm/leads', { session: first.session });
    expect(blocked.body.code).toBe('PASSWORD_CHANGE_REQUIRED');
    await expect(
      sys.cli('operators', 'create', '--email', 'boot@sb.test', '--role', 'auditor'),
    ).rejects.toThrow(/exists/);
  });

  it('HTML sign-in: the form, the TOTP step and the forced change, without JavaScript', async () => {
    const page = await fetch(url('/console/login'));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<label for="email">');
    expect(html).toContain('<label for="password">');
    // Autoescape: what the user typed comes back escaped.
    const wrong = await call('POST', '/console/login', {
      form: { email: '<b>x</b>@sb.test', password: 'nope' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('&lt;b&gt;x&lt;/b&gt;@sb.test');
    expect(wrong.body).not.toContain('<b>x</b>');

    await createOperator('pages@sb.test', 'supervisor', { mustChangePassword: true });
    const ok = await call('POST', '/console/login', { form: { email: 'pages@sb.test', password: PASSWORD } });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/console/password');
    const cookie = /sb_session=([^;]+)/.exec(ok.headers.get('set-cookie') ?? '')![1];
    const form = await fetch(url('/console/password'), { headers: { cookie: `sb_session=${cookie}` } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
    const noToken = await fetch(url('/console/password'), {
      method: 'POST',
      headers: { cookie: `sb_session=${cookie}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ current: PASSWORD, password: 'page-changed-passphrase' }).toString(),
    });
    expect(noToken.status).toBe(403);
    const changed = await fetch(url('/console/password'), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `sb_session=${cookie}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        _csrf: csrf,
        current: PASSWORD,
        password: 'page-changed-passphrase',
      }).toString(),
    });
    expect([changed.status, changed.headers.get('location')]).toEqual([303, '/console']);

    // The admin has TOTP: the password step leads to the code step, then into the console.
    const step = await call('POST', '/console/login', {
      form: { email: 'admin@sb.test', password: PASSWORD },
    });
    expect(step.status).toBe(200);
    const ticket = /name="ticket" value="([^"]+)"/.exec(step.body as string)![1];
    const secret = await adminTotpSecret();
    const done = await call('POST', '/console/login/totp', {
      form: { ticket, totp: await totpForSignIn(secret) },
    });
    expect([done.status, done.headers.get('location')]).toEqual([303, '/console']);
  });

  it('records the operator behind every console call in the access log (bootstrap for ADMIN_TOKEN)', async () => {
    const ids = await eventually(async () => {
      const rows = await sys.sql<{ operator_id: string }>(
        `SELECT DISTINCT operator_id FROM access_log WHERE operator_id IS NOT NULL`,
      );
      return rows.length >= 5 ? rows.map((r) => r.operator_id) : null;
    });
    expect(ids).toContain('bootstrap');
    const operators = await sys.sql<{ id: string }>(
      `SELECT id FROM operators WHERE email IN ('admin@sb.test', 'super@sb.test', 'anna@sb.test', 'audit@sb.test')`,
    );
    expect(ids).toEqual(expect.arrayContaining(operators.map((o) => o.id)));
    const anna = await sys.sql<{ service: string }>(
      `SELECT DISTINCT a.service FROM access_log a JOIN operators o ON o.id::text = a.operator_id
        WHERE o.email = 'anna@sb.test'`,
    );
    expect(anna.map((r) => r.service)).toContain('console /v1/crm/leads');
    // Break-glass use of the ADMIN_TOKEN fires an alert.
    const alert = await eventually(async () => {
      const rows = await sys.sql<{ subject: string; status: string }>(
        `SELECT subject, status FROM alerts WHERE rule = 'adminTokenUsed'`,
      );
      return rows.length ? rows : null;
    });
    expect(alert).toEqual([{ subject: 'ADMIN_TOKEN', status: 'firing' }]);
  });
});
