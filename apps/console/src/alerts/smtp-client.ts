import { randomUUID } from 'node:crypto';
import { connect, Socket } from 'node:net';
import { hostname } from 'node:os';

export interface SmtpMessage {
  host: string;
  port: number;
  from: string;
  to: string[];
  subject: string;
  text: string;
  timeoutMs?: number;
}

/** A reply: the code and the text of all its lines. */
interface Reply {
  code: number;
  text: string;
}

/** RFC 2047 encoded-word when the header is not plain ASCII. */
const headerText = (s: string) =>
  /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;

const ADDRESS = /^[^\s<>@]+@[^\s<>@]+$/;

/** The message as sent after DATA: headers, then the body base64-encoded (no dot-stuffing, 8-bit safe). */
export function buildMessage(
  m: Pick<SmtpMessage, 'from' | 'to' | 'subject' | 'text'>,
  now = new Date(),
): string {
  const domain = m.from.split('@')[1] ?? 'localhost';
  const body = (
    Buffer.from(m.text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');
  return [
    `From: <${m.from}>`,
    `To: ${m.to.map((t) => `<${t}>`).join(', ')}`,
    `Subject: ${headerText(m.subject)}`,
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomUUID()}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

/**
 * A minimal SMTP client (RFC 5321) for a relay on a trusted network: plain connection, no STARTTLS and no AUTH
 * (the alerts.smtp config has neither). One message per connection. Throws on any non-2xx/3xx answer.
 */
export async function sendMail(m: SmtpMessage): Promise<void> {
  for (const a of [m.from, ...m.to]) if (!ADDRESS.test(a)) throw new Error(`not an email address: "${a}"`);
  const socket: Socket = connect({ host: m.host, port: m.port });
  socket.setTimeout(m.timeoutMs ?? 10_000);
  let buffer = '';
  let lines: string[] = [];
  const replies: Reply[] = [];
  let waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  let failure: Error | null = null;

  const fail = (err: Error) => {
    failure ??= err;
    waiter?.reject(failure);
    waiter = null;
    socket.destroy();
  };
  socket.on('timeout', () => fail(new Error(`SMTP ${m.host}:${m.port} timed out`)));
  socket.on('error', fail);
  socket.on('close', () => fail(new Error(`SMTP ${m.host}:${m.port} closed the connection`)));
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i).replace(/\r$/, '');
      buffer = buffer.slice(i + 1);
      lines.push(line);
      // "250-..." continues a multi-line reply; "250 ..." (or a bare "250") ends it.
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') };
        lines = [];
        if (waiter) waiter.resolve(reply);
        else replies.push(reply);
        waiter = null;
      }
    }
  });

  const reply = (): Promise<Reply> => {
    const ready = replies.shift();
    if (ready) return Promise.resolve(ready);
    return failure
      ? Promise.reject(failure)
      : new Promise((resolve, reject) => (waiter = { resolve, reject }));
  };
  const expect = async (step: string, ok: (code: number) => boolean): Promise<Reply> => {
    const r = await reply();
    if (!ok(r.code)) throw new Error(`SMTP ${step} refused: ${r.code} ${r.text}`);
    return r;
  };
  const command = (line: string, step: string, ok = (c: number) => c >= 200 && c < 300) => {
    socket.write(`${line}\r\n`);
    return expect(step, ok);
  };

  try {
    await expect('greeting', (c) => c === 220);
    await command(`EHLO ${hostname() || 'localhost'}`, 'EHLO');
    await command(`MAIL FROM:<${m.from}>`, 'MAIL FROM');
    for (const to of m.to) await command(`RCPT TO:<${to}>`, 'RCPT TO');
    await command('DATA', 'DATA', (c) => c === 354);
    await command(`${buildMessage(m)}\r\n.`, 'message');
    // The message is accepted; a relay that hangs up without answering QUIT changes nothing.
    await command('QUIT', 'QUIT').catch(() => undefined);
  } finally {
    socket.removeAllListeners('close');
    socket.on('error', () => undefined);
    socket.end();
  }
}
