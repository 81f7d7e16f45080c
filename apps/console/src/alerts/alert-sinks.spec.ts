import type { AlertsConfig } from '@switchboard/config';
import { verifyStandardWebhookSignature } from '@switchboard/peer-auth';
import type { Alert } from './alert-rules';
import { OutboundFetch, sinkConfigProblems, SmtpSink, WebhookSink } from './alert-sinks';
import type { MailMessage } from '../mail/mailer';

const SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
const ALERT: Alert = {
  id: '0b6f3c1e-6a55-4c1f-9a43-2d8e3f1a7b90',
  rule: 'authFailures',
  subject: 'shop',
  status: 'firing',
  summary: '20 failed authentications of peer shop',
  details: { failures: 20 },
  firedAt: '2025-06-01T12:00:00.000Z',
  lastSeenAt: '2025-06-01T12:00:05.000Z',
  resolvedAt: null,
  firedNotifiedAt: null,
  resolvedNotifiedAt: null,
};

function fakeHttp(status: number) {
  const calls: Array<{ op: unknown; url: string; init: RequestInit & { timeoutMs?: number } }> = [];
  const http: OutboundFetch = {
    async fetch(op, url, init = {}) {
      calls.push({ op, url, init });
      return new Response('ok', { status });
    },
  };
  return { http, calls };
}

describe('WebhookSink', () => {
  it('POSTs the alert as JSON, signed per Standard Webhooks, through the outbound client', async () => {
    const { http, calls } = fakeHttp(202);
    await new WebhookSink('http://sink.test/hook', SECRET, http, 5000, () => 1_748_779_200_000).send(
      'firing',
      ALERT,
    );
    const { op, url, init } = calls[0];
    expect(op).toEqual({ service: 'alerts.webhook', peerId: null });
    expect(url).toBe('http://sink.test/hook');
    expect(init.method).toBe('POST');
    expect(init.timeoutMs).toBe(5000);
    const headers = init.headers as Record<string, string>;
    expect(headers['webhook-id']).toBe(`${ALERT.id}:firing`);
    expect(headers['webhook-timestamp']).toBe('1748779200');
    const body = JSON.parse(init.body as string);
    expect(body).toEqual({
      type: 'alert.firing',
      alert: {
        id: ALERT.id,
        rule: 'authFailures',
        subject: 'shop',
        status: 'firing',
        summary: ALERT.summary,
        details: { failures: 20 },
        firedAt: ALERT.firedAt,
        resolvedAt: null,
      },
    });
    const verdict = verifyStandardWebhookSignature(
      { method: 'POST', url, headers, rawBody: Buffer.from(init.body as string) },
      SECRET,
      {
        now: () => 1_748_779_200_000,
      },
    );
    expect(verdict).toEqual({ ok: true });
  });

  it('anything but 2xx is a failure', async () => {
    const { http } = fakeHttp(500);
    await expect(
      new WebhookSink('http://sink.test/hook', SECRET, http).send('resolved', ALERT),
    ).rejects.toThrow('webhook answered 500');
  });
});

const config = (over: Partial<AlertsConfig> = {}): AlertsConfig =>
  ({
    webhookUrl: '',
    webhookSecret: '',
    smtp: { host: '', port: 25, secure: false, user: '', pass: '', passFile: '', from: '', to: '' },
    ...over,
  }) as AlertsConfig;

describe('sinkConfigProblems', () => {
  it('no sinks is fine', () => {
    expect(sinkConfigProblems(config())).toEqual([]);
  });
  it('a webhook needs a whsec_ secret', () => {
    expect(sinkConfigProblems(config({ webhookUrl: 'https://x.test/h', webhookSecret: SECRET }))).toEqual([]);
    for (const secret of ['', 'plain-secret', 'whsec_', 'whsec_c2hvcnQ=']) {
      const problems = sinkConfigProblems(config({ webhookUrl: 'https://x.test/h', webhookSecret: secret }));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain('ALERTS_WEBHOOK_SECRET');
    }
  });
  it('a webhook URL must be an http(s) URL', () => {
    expect(sinkConfigProblems(config({ webhookUrl: 'not a url', webhookSecret: SECRET }))[0]).toContain(
      'is not a URL',
    );
    expect(sinkConfigProblems(config({ webhookUrl: 'ftp://x.test', webhookSecret: SECRET }))[0]).toContain(
      'http(s)',
    );
  });
  const smtp = {
    host: 'mail.test',
    port: 587,
    secure: false,
    user: '',
    pass: '',
    passFile: '',
    from: 'alerts@sb.test',
    to: 'ops@sb.test, oncall@sb.test',
  };
  it('SMTP needs sender and recipients', () => {
    expect(sinkConfigProblems(config({ smtp }))).toEqual([]);
    expect(sinkConfigProblems(config({ smtp: { ...smtp, from: '', to: '' } }))).toHaveLength(2);
  });
  it('SMTP AUTH needs a user and exactly one password source, and never quotes the password', () => {
    expect(sinkConfigProblems(config({ smtp: { ...smtp, user: 'alerts', pass: 's3cret!' } }))).toEqual([]);
    const both = sinkConfigProblems(
      config({ smtp: { ...smtp, user: 'alerts', pass: 's3cret!', passFile: '/etc/hostname' } }),
    );
    expect(both).toEqual([expect.stringContaining('set only one of alerts.smtp.pass')]);
    expect(both.join()).not.toContain('s3cret!');
    expect(sinkConfigProblems(config({ smtp: { ...smtp, user: 'alerts' } }))).toEqual([
      expect.stringContaining('ALERTS_SMTP_PASS'),
    ]);
    expect(sinkConfigProblems(config({ smtp: { ...smtp, pass: 's3cret!' } }))).toEqual([
      expect.stringContaining('ALERTS_SMTP_USER'),
    ]);
    expect(
      sinkConfigProblems(config({ smtp: { ...smtp, user: 'alerts', passFile: '/nonexistent/smtp-pass' } })),
    ).toEqual([expect.stringContaining('cannot be read')]);
  });
});

describe('SmtpSink', () => {
  it('sends one plain-text email per notification to every recipient and records the call', async () => {
    const sent: MailMessage[] = [];
    const calls: Array<{ ok: boolean }> = [];
    const sink = new SmtpSink(
      { from: 'alerts@sb.test', to: 'ops@sb.test, x@sb.test' },
      async (m) => void sent.push(m),
      (c) => calls.push(c),
    );
    await sink.send('firing', ALERT);
    expect(sent).toEqual([
      {
        from: 'alerts@sb.test',
        to: ['ops@sb.test', 'x@sb.test'],
        subject: `[switchboard] FIRING: ${ALERT.summary}`,
        text: expect.stringContaining(`alert id: ${ALERT.id}`),
      },
    ]);
    expect(calls).toEqual([expect.objectContaining({ ok: true, durationMs: expect.any(Number) })]);
  });

  it('a failed delivery is an error, recorded as a failed call', async () => {
    const calls: Array<{ ok: boolean }> = [];
    const sink = new SmtpSink(
      { from: 'a@sb.test', to: 'b@sb.test' },
      () => Promise.reject(new Error('SMTP 127.0.0.1:1: connection failed')),
      (c) => calls.push(c),
    );
    await expect(sink.send('resolved', ALERT)).rejects.toThrow('connection failed');
    expect(calls).toEqual([expect.objectContaining({ ok: false })]);
  });
});
