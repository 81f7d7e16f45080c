import type { AlertsConfig } from '@switchboard/config';
import { verifyStandardWebhookSignature } from '@switchboard/peer-auth';
import { createServer, Server } from 'node:net';
import type { Alert } from './alert-rules';
import { OutboundFetch, sinkConfigProblems, SmtpSink, WebhookSink } from './alert-sinks';
import { buildMessage, sendMail } from './smtp-client';

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
    smtp: { host: '', port: 25, from: '', to: '' },
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
  it('SMTP needs sender and recipients', () => {
    const smtp = { host: 'mail.test', port: 25, from: 'alerts@sb.test', to: 'ops@sb.test, oncall@sb.test' };
    expect(sinkConfigProblems(config({ smtp }))).toEqual([]);
    expect(sinkConfigProblems(config({ smtp: { ...smtp, from: '', to: '' } }))).toHaveLength(2);
  });
});

/** A scripted SMTP server: records the session, answers 250 (or `failAt` with 550). */
function smtpServer(failAt?: string): Promise<{ server: Server; port: number; sessions: string[][] }> {
  const sessions: string[][] = [];
  const server = createServer((sock) => {
    const lines: string[] = [];
    sessions.push(lines);
    let inData = false;
    let buf = '';
    sock.write('220 test ESMTP\r\n');
    sock.on('data', (chunk) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        lines.push(line);
        if (inData) {
          if (line === '.') {
            inData = false;
            sock.write('250 queued\r\n');
          }
          continue;
        }
        const verb = line.split(/[ :]/)[0].toUpperCase();
        if (failAt && verb === failAt) sock.write('550 no thanks\r\n');
        else if (verb === 'EHLO') sock.write('250-test\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n');
        else if (verb === 'DATA') {
          inData = true;
          sock.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') sock.end('221 bye\r\n');
        else sock.write('250 ok\r\n');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as { port: number }).port, sessions }),
    ),
  );
}

describe('SMTP', () => {
  it('buildMessage: headers, base64 body, encoded non-ASCII subject', () => {
    const msg = buildMessage({
      from: 'a@sb.test',
      to: ['b@sb.test'],
      subject: 'Привет',
      text: 'hello\n.\nworld',
    });
    expect(msg).toContain('Subject: =?UTF-8?B?');
    expect(msg).toContain('Content-Transfer-Encoding: base64');
    const body = msg.split('\r\n\r\n')[1];
    expect(Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString()).toBe('hello\n.\nworld');
  });

  it('SmtpSink sends one plain email to every recipient', async () => {
    const { server, port, sessions } = await smtpServer();
    try {
      const calls: Array<{ ok: boolean }> = [];
      const smtp = { host: '127.0.0.1', port, from: 'alerts@sb.test', to: 'ops@sb.test, x@sb.test' };
      await new SmtpSink(smtp, sendMail, (c) => calls.push(c)).send('firing', ALERT);
      expect(calls).toEqual([expect.objectContaining({ ok: true, durationMs: expect.any(Number) })]);
      const s = sessions[0];
      expect(s[0]).toMatch(/^EHLO /);
      expect(s.slice(1, 5)).toEqual([
        'MAIL FROM:<alerts@sb.test>',
        'RCPT TO:<ops@sb.test>',
        'RCPT TO:<x@sb.test>',
        'DATA',
      ]);
      expect(s).toContain(`Subject: [switchboard] FIRING: ${ALERT.summary}`);
      expect(s[s.length - 1]).toBe('QUIT');
    } finally {
      server.close();
    }
  });

  it('a refusal is an error (and recorded as a failed call)', async () => {
    const { server, port } = await smtpServer('RCPT');
    try {
      const calls: Array<{ ok: boolean }> = [];
      const smtp = { host: '127.0.0.1', port, from: 'a@sb.test', to: 'b@sb.test' };
      await expect(
        new SmtpSink(smtp, sendMail, (c) => calls.push(c)).send('resolved', ALERT),
      ).rejects.toThrow('SMTP RCPT TO refused: 550');
      expect(calls).toEqual([expect.objectContaining({ ok: false })]);
      await expect(
        sendMail({ host: '127.0.0.1', port, from: 'a@sb.test', to: ['b@sb.test'], subject: 's', text: 't' }),
      ).rejects.toThrow('SMTP RCPT TO refused: 550');
    } finally {
      server.close();
    }
  });

  it('an unreachable relay is an error', async () => {
    const { server, port } = await smtpServer();
    server.close();
    await expect(
      sendMail({ host: '127.0.0.1', port, from: 'a@sb.test', to: ['b@sb.test'], subject: 's', text: 't' }),
    ).rejects.toThrow();
  });
});
