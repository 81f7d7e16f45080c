import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { createTransport } from 'nodemailer';
import type { SmtpSinkConfig } from '@switchboard/config';

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** Resolves once the relay accepted the message for every recipient; rejects with a readable error otherwise. */
export type MailSender = (message: MailMessage) => Promise<void>;

/** How long each phase of an SMTP exchange may take, so a silent or stuck relay is an error, never a hang. */
export interface SmtpTimeouts {
  connectionMs: number;
  greetingMs: number;
  socketMs: number;
}
const TIMEOUTS: SmtpTimeouts = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 };

/** The password from alerts.smtp.pass (ALERTS_SMTP_PASS) or the file alerts.smtp.passFile names; '' if neither. */
export function smtpPassword(c: Pick<SmtpSinkConfig, 'pass' | 'passFile'>): string {
  if (c.pass) return c.pass;
  return c.passFile ? readFileSync(c.passFile, 'utf8').trim() : '';
}

/**
 * Mail through nodemailer, one connection per message (alerts are rare; password-reset mail can share it). `secure` is TLS from the first byte
 * (port 465); otherwise STARTTLS is used whenever the relay offers it, and required when authenticating, so the
 * password never crosses the network in clear. The relay's certificate is verified (extra CAs: NODE_EXTRA_CA_CERTS).
 */
export function smtpMailer(
  c: Pick<SmtpSinkConfig, 'host' | 'port' | 'secure' | 'user' | 'pass' | 'passFile'>,
  timeouts: SmtpTimeouts = TIMEOUTS,
  /** Extra TLS options, e.g. `ca` for a relay with a private CA (the console itself uses NODE_EXTRA_CA_CERTS). */
  tls: ConnectionOptions = {},
): MailSender {
  const transport = createTransport({
    host: c.host,
    port: c.port,
    secure: c.secure,
    requireTLS: !c.secure && Boolean(c.user),
    auth: c.user ? { user: c.user, pass: smtpPassword(c) } : undefined,
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    tls,
  });
  const where = `${c.host}:${c.port}`;
  return async (m) => {
    try {
      const info = await transport.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text });
      if (info.rejected.length) {
        const refused = info.rejected.map((r) => (typeof r === 'string' ? r : r.address));
        throw new Error(`refused recipients ${refused.join(', ')}`);
      }
    } catch (err) {
      throw new Error(`SMTP ${where}: ${describeSmtpError(err as SmtpError, c.user)}`, { cause: err });
    }
  };
}

/** nodemailer's error fields (code, the relay's response). */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** One line an operator can act on; names the user but never the password. */
export function describeSmtpError(e: SmtpError, user = ''): string {
  const relay = e.response ? ` (relay said: ${e.response.trim().split('\n')[0]})` : '';
  switch (e.code) {
    case 'EAUTH':
      return `authentication as "${user}" failed: check alerts.smtp.user and the password${relay}`;
    case 'ETLS':
      return `TLS failed: ${e.message}`;
    case 'ETIMEDOUT':
      return `timed out (${e.message})`;
    case 'ECONNECTION':
    case 'ESOCKET':
      return `connection failed: ${e.message}`;
    case 'EENVELOPE':
      return `sender or recipients refused${relay || `: ${e.message}`}`;
    default:
      return e.message;
  }
}
