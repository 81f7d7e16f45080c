import { createServer, Socket } from 'node:net';
import { startSmtpServer, TestSmtpServer } from '../../../../test/support/smtp';
import { describeSmtpError, MailMessage, smtpMailer } from './mailer';

const MESSAGE: MailMessage = {
  from: 'alerts@sb.test',
  to: ['ops@sb.test', 'oncall@sb.test'],
  subject: '[switchboard] FIRING: Привет',
  text: 'hello\n.\nworld',
};

describe('smtpMailer (nodemailer) against a relay requiring STARTTLS and AUTH', () => {
  let relay: TestSmtpServer;

  beforeAll(async () => {
    relay = await startSmtpServer('alerts', 'right-pass');
  });
  afterAll(async () => {
    await relay.close();
  });

  // The relay's certificate is self-signed: trust it explicitly, as an operator would with NODE_EXTRA_CA_CERTS.
  const mailer = (pass: string) =>
    smtpMailer(
      { host: '127.0.0.1', port: relay.port, secure: false, user: 'alerts', pass, passFile: '' },
      undefined,
      { ca: relay.cert },
    );

  it('upgrades with STARTTLS, authenticates and delivers to every recipient', async () => {
    await mailer('right-pass')(MESSAGE);
    expect(relay.received).toHaveLength(1);
    const [mail] = relay.received;
    expect(mail).toMatchObject({ user: 'alerts', secure: true, from: MESSAGE.from, to: MESSAGE.to });
    expect(mail.raw).toContain('Subject: =?UTF-8?');
    expect(mail.raw).toMatch(/hello\r?\n\.\.?\r?\nworld|aGVsbG8K/); // dot-stuffed or encoded, never cut short
  });

  it('wrong credentials: a clear error naming the user, not the password, and fast', async () => {
    const t0 = Date.now();
    const failure = await mailer('wrong-pass')(MESSAGE).then(
      () => null,
      (e: Error) => e,
    );
    expect(failure?.message).toMatch(/^SMTP 127\.0\.0\.1:\d+: authentication as "alerts" failed/);
    expect(failure?.message).not.toContain('wrong-pass');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(relay.logins.at(-1)).toEqual({ user: 'alerts', ok: false });
  });

  it('refuses to send the password in clear when the relay offers no STARTTLS', async () => {
    const silentTls = createServer((sock) => {
      sock.write('220 plain ESMTP\r\n');
      sock.on('data', (d) => {
        const line = d.toString();
        if (/^EHLO/i.test(line)) sock.write('250-plain\r\n250 AUTH PLAIN\r\n');
        else if (/^QUIT/i.test(line)) sock.end('221 bye\r\n');
        else sock.write('502 no\r\n');
      });
    });
    await new Promise<void>((r) => silentTls.listen(0, '127.0.0.1', r));
    const port = (silentTls.address() as { port: number }).port;
    try {
      await expect(
        smtpMailer({ host: '127.0.0.1', port, secure: false, user: 'alerts', pass: 'x', passFile: '' })(
          MESSAGE,
        ),
      ).rejects.toThrow(/STARTTLS|TLS/);
    } finally {
      silentTls.close();
    }
  });

  it('a relay that never answers is a timeout error, not a hang', async () => {
    const sockets: Socket[] = [];
    const mute = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as { port: number }).port;
    try {
      const send = smtpMailer(
        { host: '127.0.0.1', port, secure: false, user: '', pass: '', passFile: '' },
        { connectionMs: 500, greetingMs: 500, socketMs: 1000 },
      );
      await expect(send(MESSAGE)).rejects.toThrow(/timed out|Greeting never received/i);
    } finally {
      for (const s of sockets) s.destroy();
      mute.close();
    }
  });

  it('describes nodemailer errors for operators', () => {
    expect(
      describeSmtpError(Object.assign(new Error('x'), { code: 'EENVELOPE', response: '550 no such user' })),
    ).toBe('sender or recipients refused (relay said: 550 no such user)');
    expect(describeSmtpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toBe(
      'connection failed: connect ECONNREFUSED',
    );
  });
});
