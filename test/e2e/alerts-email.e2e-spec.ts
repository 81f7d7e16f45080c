import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmtpServer, TestSmtpServer } from '../support/smtp';
import { eventually, ROOT, TestSystem } from './support/system';

/**
 * Issue 19 acceptance (email): an alert is mailed through nodemailer to a relay that requires STARTTLS and AUTH
 * (smtp-server, certificate made at run time and trusted via NODE_EXTRA_CA_CERTS). With a wrong password the
 * console logs a clear authentication error every round, the alert stays owed (retried), nothing hangs; with
 * the right password (after a restart, the password file is read at start) it is delivered exactly once.
 */
const THRESHOLD = 5;

describe('alerts by email (STARTTLS + AUTH)', () => {
  let sys: TestSystem;
  let relay: TestSmtpServer;
  let dir: string;
  const passFile = () => join(dir, 'smtp-pass');

  beforeAll(async () => {
    relay = await startSmtpServer('alerts', 'right-pass');
    dir = mkdtempSync(join(tmpdir(), 'sb-smtp-'));
    writeFileSync(join(dir, 'relay-ca.pem'), relay.cert);
    writeFileSync(passFile(), 'wrong-pass\n', { mode: 0o600 });
    sys = new TestSystem('alerts-email', {
      ALERTS_EVALUATE_INTERVAL_SECONDS: '1',
      ALERTS_AUTH_FAILURE_THRESHOLD: String(THRESHOLD),
      ALERTS_AUTH_FAILURE_WINDOW_MINUTES: '10', // stays firing for the whole suite
      ALERTS_SMTP_HOST: '127.0.0.1',
      ALERTS_SMTP_PORT: String(relay.port),
      ALERTS_SMTP_USER: 'alerts',
      ALERTS_SMTP_PASS_FILE: passFile(),
      ALERTS_SMTP_FROM: 'switchboard@sb.test',
      ALERTS_SMTP_TO: 'ops@sb.test, oncall@sb.test',
      NODE_EXTRA_CA_CERTS: join(dir, 'relay-ca.pem'),
    });
    await sys.start(['gateway', 'console']);
  });

  afterAll(async () => {
    await sys?.destroy();
    await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function failAuthentications(n: number): Promise<void> {
    const authorization = `Basic ${Buffer.from(`${sys.peerId}:not-the-token`).toString('base64')}`;
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${sys.app('gateway').url}/v1/website/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: '{}',
      });
      expect(((await res.json()) as { code: string }).code).toMatch(/^AUTH_/);
    }
  }

  const firedNotifiedAt = async () =>
    (
      await sys.sql<{ fired_notified_at: Date | null }>(
        `SELECT fired_notified_at FROM alerts WHERE rule = 'authFailures' AND subject = $1`,
        [sys.peerId],
      )
    )[0]?.fired_notified_at;

  it('wrong credentials: a clear error in the log, retried every round, the alert still owed', async () => {
    await failAuthentications(THRESHOLD);
    // Refused logins, one per round: the notification is retried, each attempt ends (no hang).
    expect(await eventually(async () => relay.logins.filter((l) => !l.ok).length >= 2, 30_000)).toBe(true);
    expect(relay.logins.every((l) => l.user === 'alerts' && !l.ok)).toBe(true);
    expect(relay.received).toEqual([]);
    expect(await firedNotifiedAt()).toBeNull();

    const log = readFileSync(join(ROOT, '.data/test-logs/alerts-email-console.log'), 'utf8');
    expect(log).toMatch(
      /notification to smtp failed, retrying next round: SMTP 127\.0\.0\.1:\d+: authentication as \\?"alerts\\?" failed/,
    );
    expect(log).not.toContain('wrong-pass');

    const failed = await sys.sql<{ result: string; error_code: string }>(
      `SELECT result, error_code FROM access_log WHERE direction = 'outbound' AND service = 'alerts.smtp'`,
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((r) => `${r.result} ${r.error_code}`))).toEqual(
      new Set(['failed OUTBOUND_SMTP_FAILED']),
    );
  });

  it('right credentials: the owed alert is delivered once, over STARTTLS, as the authenticated user', async () => {
    writeFileSync(passFile(), 'right-pass\n');
    await sys.app('console').kill('SIGTERM');
    await sys.startApp('console');

    expect(await eventually(async () => relay.received.length > 0, 30_000)).toBe(true);
    expect(await eventually(async () => (await firedNotifiedAt()) != null, 10_000)).toBe(true);
    // Later rounds owe nothing more for this alert.
    const round = await sys.consoleCall('POST', '/v1/admin/alerts/evaluate');
    expect(round.status).toBe(200);
    expect(relay.received).toHaveLength(1);
    const [mail] = relay.received;
    expect(mail).toMatchObject({
      user: 'alerts',
      secure: true,
      from: 'switchboard@sb.test',
      to: ['ops@sb.test', 'oncall@sb.test'],
    });
    expect(mail.raw).toMatch(/^Subject: \[switchboard\] FIRING: .*shop-test/m);
  });
});
