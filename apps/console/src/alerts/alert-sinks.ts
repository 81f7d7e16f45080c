import type { AlertsConfig } from '@switchboard/config';
import { signStandardWebhook } from '@switchboard/peer-auth';
import type { Alert } from './alert-rules';
import type { NotificationKind } from './alert-store';
import { MailSender, smtpPassword } from '../mail/mailer';

/** Where alerts go. send() resolves only once the sink accepted the notification, and throws otherwise. */
export interface AlertSink {
  readonly name: string;
  send(kind: NotificationKind, alert: Alert): Promise<void>;
}

/** The shape of OutboundHttp.fetch (@switchboard/access-log): the call is recorded as an outbound interface call. */
export interface OutboundFetch {
  fetch(
    op: { service: string; peerId?: string | null },
    url: string,
    init?: RequestInit & { timeoutMs?: number },
  ): Promise<Response>;
}

/** What a sink receives: the alert without the bookkeeping columns. */
export function alertPayload(kind: NotificationKind, a: Alert) {
  return {
    type: `alert.${kind}` as const,
    alert: {
      id: a.id,
      rule: a.rule,
      subject: a.subject,
      status: a.status,
      summary: a.summary,
      details: a.details,
      firedAt: a.firedAt,
      resolvedAt: a.resolvedAt,
    },
  };
}

/**
 * POSTs the payload as JSON, signed per Standard Webhooks. webhook-id is the alert id and the notification kind,
 * so a retry of the same notification carries the same id (receivers can de-duplicate on it).
 */
export class WebhookSink implements AlertSink {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly http: OutboundFetch,
    private readonly timeoutMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async send(kind: NotificationKind, alert: Alert): Promise<void> {
    const body = JSON.stringify(alertPayload(kind, alert));
    const id = `${alert.id}:${kind}`;
    const timestamp = Math.floor(this.now() / 1000);
    const res = await this.http.fetch({ service: 'alerts.webhook', peerId: null }, this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'switchboard-alerts',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signStandardWebhook(id, timestamp, body, this.secret),
      },
      body,
      timeoutMs: this.timeoutMs,
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }
}

/** How an SMTP exchange is reported to the access log (outbound, service alerts.smtp); never the addresses. */
export type SmtpCallRecorder = (call: {
  startedAt: Date;
  durationMs: number;
  ok: boolean;
  bytesOut: number;
}) => void;

/** A plain-text email per notification, through the configured relay. */
export class SmtpSink implements AlertSink {
  readonly name = 'smtp';
  private readonly to: string[];

  constructor(
    private readonly smtp: Pick<AlertsConfig['smtp'], 'from' | 'to'>,
    private readonly sendMail: MailSender,
    private readonly recordCall: SmtpCallRecorder = () => undefined,
  ) {
    this.to = smtp.to
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  async send(kind: NotificationKind, alert: Alert): Promise<void> {
    const p = alertPayload(kind, alert).alert;
    const text = [
      p.summary,
      '',
      `status:   ${p.status}`,
      `rule:     ${p.rule}`,
      `subject:  ${p.subject}`,
      `fired:    ${p.firedAt}`,
      ...(p.resolvedAt ? [`resolved: ${p.resolvedAt}`] : []),
      `alert id: ${p.id}`,
      '',
      JSON.stringify(p.details, null, 2),
    ].join('\n');
    const startedAt = new Date();
    const t0 = performance.now();
    let ok = false;
    try {
      await this.sendMail({
        from: this.smtp.from,
        to: this.to,
        subject: `[switchboard] ${kind.toUpperCase()}: ${p.summary}`,
        text,
      });
      ok = true;
    } finally {
      this.recordCall({
        startedAt,
        durationMs: performance.now() - t0,
        ok,
        bytesOut: Buffer.byteLength(text),
      });
    }
  }
}

/** Readable problems with the sink configuration; the console refuses to start while there are any. */
export function sinkConfigProblems(c: AlertsConfig): string[] {
  const problems: string[] = [];
  if (c.webhookUrl) {
    let url: URL | null = null;
    try {
      url = new URL(c.webhookUrl);
    } catch {
      problems.push(`alerts.webhookUrl (ALERTS_WEBHOOK_URL) is not a URL: "${c.webhookUrl}"`);
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:')
      problems.push(`alerts.webhookUrl (ALERTS_WEBHOOK_URL) must be http(s), got "${url.protocol}"`);
    const key = c.webhookSecret.startsWith('whsec_') ? Buffer.from(c.webhookSecret.slice(6), 'base64') : null;
    if (!key || key.length < 16)
      problems.push(
        'alerts.webhookUrl is set, so alerts.webhookSecret (ALERTS_WEBHOOK_SECRET) must be a Standard Webhooks ' +
          'secret: "whsec_" followed by at least 16 random bytes in base64',
      );
  }
  if (c.smtp.host) {
    if (!c.smtp.port)
      problems.push('alerts.smtp.port (ALERTS_SMTP_PORT) must be set when alerts.smtp.host is');
    if (!ADDRESS.test(c.smtp.from))
      problems.push(`alerts.smtp.from (ALERTS_SMTP_FROM) must be an email address, got "${c.smtp.from}"`);
    const to = c.smtp.to.split(',').map((s) => s.trim());
    if (!to.length || to.some((t) => !ADDRESS.test(t)))
      problems.push(`alerts.smtp.to (ALERTS_SMTP_TO) must list email addresses, got "${c.smtp.to}"`);
    // Never quote the password itself.
    if (c.smtp.pass && c.smtp.passFile)
      problems.push(
        'set only one of alerts.smtp.pass (ALERTS_SMTP_PASS) and alerts.smtp.passFile (ALERTS_SMTP_PASS_FILE)',
      );
    const hasPassword = Boolean(c.smtp.pass || c.smtp.passFile);
    if (c.smtp.user && !hasPassword)
      problems.push(
        'alerts.smtp.user (ALERTS_SMTP_USER) is set, so set ALERTS_SMTP_PASS or ALERTS_SMTP_PASS_FILE too',
      );
    if (!c.smtp.user && hasPassword)
      problems.push('an SMTP password is set but alerts.smtp.user (ALERTS_SMTP_USER) is empty');
    if (c.smtp.passFile) {
      try {
        if (!smtpPassword(c.smtp)) problems.push(`alerts.smtp.passFile ${c.smtp.passFile} is empty`);
      } catch (e) {
        problems.push(`alerts.smtp.passFile (ALERTS_SMTP_PASS_FILE) cannot be read: ${(e as Error).message}`);
      }
    }
  }
  return problems;
}

const ADDRESS = /^[^\s<>@,]+@[^\s<>@,]+$/;
