import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as forge from 'node-forge';
import { eventually, freePort, order, ROOT, TestSystem } from './support/system';

/** A self-signed certificate for localhost and 127.0.0.1 (its own CA), made with node-forge. */
function selfSigned(serial: string): { cert: string; key: string } {
  // The RSA key from Node's native generator (forge's pure-JS one takes seconds); the certificate from forge.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const name = [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
      ],
    },
  ]);
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key };
}

interface HttpsAnswer {
  status: number;
  body: string;
  /** The serial number of the certificate the server presented (upper-case hex, as Node reports it). */
  serial: string;
}

/** One request on a new connection (no keep-alive: each request sees the certificate served now). */
function httpsCall(
  url: string,
  ca: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, ca, agent: false },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, serial }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('TLS: the gateway serves HTTPS itself and reloads its certificate on SIGHUP', () => {
  const sys = new TestSystem('tls');
  const dir = mkdtempSync(join(tmpdir(), 'sb-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const first = selfSigned('01a1');
  const second = selfSigned('02b2');
  let gateway: ChildProcess | null = null;
  let url = '';
  let output = '';

  beforeAll(async () => {
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key, { mode: 0o600 });
    await sys.start(['website-connector']);
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    gateway = spawn(process.execPath, [join(ROOT, 'dist/apps/gateway/src/main.js')], {
      env: {
        ...sys.env('gateway'),
        GATEWAY_PORT: String(port),
        GATEWAY_METRICS_PORT: String(await freePort()),
        HTTP_TLS_CERT_FILE: certFile,
        HTTP_TLS_KEY_FILE: keyFile,
        LOG_LEVEL: 'info',
      },
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateway.stdout!.on('data', (d) => (output += d));
    gateway.stderr!.on('data', (d) => (output += d));
    const up = await eventually(async () => {
      if (gateway!.exitCode !== null) throw new Error(`gateway exited: ${output}`);
      return (await httpsCall(`${url}/health`, first.cert).catch(() => null))?.status === 200;
    }, 60_000);
    if (!up) throw new Error(`gateway not up over HTTPS: ${output}`);
  }, 120_000);

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((r) => gateway!.once('exit', r));
      gateway.kill('SIGTERM');
      await exited;
    }
    await sys.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts an order over HTTPS (202) with the CA trusted, and the order is processed', async () => {
    const o = order();
    const res = await httpsCall(`${url}/v1/website/orders`, first.cert, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sys.peerKey}` },
      body: JSON.stringify(o),
    });
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body).eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.serial).toBe('01A1');
    const deals = await eventually(async () => {
      const rows = await sys.sql(`SELECT external_id FROM deals WHERE external_id = $1`, [o.externalId]);
      return rows.length ? rows : null;
    }, 30_000);
    expect(deals).toHaveLength(1);
  });

  it('refuses a client that does not trust the certificate (no silent downgrade)', async () => {
    await expect(httpsCall(`${url}/health`, second.cert)).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('SIGHUP: the new certificate is served on new connections, the listener never closed', async () => {
    writeFileSync(certFile, second.cert);
    writeFileSync(keyFile, second.key);
    gateway!.kill('SIGHUP');
    const served = await eventually(async () => {
      const res = await httpsCall(`${url}/health`, second.cert).catch(() => null);
      return res?.serial === '02B2' ? res : null;
    }, 20_000);
    expect(served?.status).toBe(200);
    expect(gateway!.exitCode).toBeNull();
    expect(output).toMatch(/now serving certificate CN=localhost \(serial 02B2/);
  });

  it('SIGHUP with a key that does not match keeps the current certificate', async () => {
    writeFileSync(keyFile, first.key); // second's certificate with first's key
    gateway!.kill('SIGHUP');
    await eventually(async () => /certificate not reloaded/.test(output), 20_000);
    const res = await httpsCall(`${url}/health`, second.cert);
    expect(res).toMatchObject({ status: 200, serial: '02B2' });
    expect(gateway!.exitCode).toBeNull();
  });
});
