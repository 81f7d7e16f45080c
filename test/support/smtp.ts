import { generateKeyPairSync } from 'node:crypto';
import { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { SMTPServer, SMTPServerSession } from 'smtp-server';

/**
 * A throwaway self-signed certificate for 127.0.0.1 / localhost, made at run time (no key file is ever
 * committed). The RSA key comes from node:crypto (native, fast); node-forge writes the X.509 certificate.
 */
export function selfSignedCert(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const name = [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
      ],
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  return { key, cert: forge.pki.certificateToPem(cert) };
}

export interface ReceivedMail {
  user: string | undefined;
  secure: boolean;
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtpServer {
  port: number;
  cert: string;
  received: ReceivedMail[];
  /** Every AUTH attempt: the user name and whether it succeeded. */
  logins: Array<{ user: string; ok: boolean }>;
  close(): Promise<void>;
}

/**
 * A local relay that, like a real submission server, offers STARTTLS and refuses AUTH and mail before it
 * (allowInsecureAuth off, authOptional off), accepting only `user`/`pass`.
 */
export async function startSmtpServer(user: string, pass: string): Promise<TestSmtpServer> {
  const { key, cert } = selfSignedCert();
  const received: ReceivedMail[] = [];
  const logins: TestSmtpServer['logins'] = [];
  const server = new SMTPServer({
    secure: false,
    key,
    cert,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: false,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, done) {
      const ok = auth.username === user && auth.password === pass;
      logins.push({ user: auth.username ?? '', ok });
      if (!ok) return done(new Error('Invalid username or password'));
      done(null, { user: auth.username });
    },
    onData(stream, session: SMTPServerSession, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          user: session.user,
          secure: session.secure,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        done();
      });
    },
  });
  server.on('error', () => undefined); // failed handshakes of the tests that expect them
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    cert,
    received,
    logins,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
