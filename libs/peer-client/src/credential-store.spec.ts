import { randomBytes } from 'node:crypto';
import { promises as fsp, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '@switchboard/peer-auth';
import { Keyring, parseKeyring } from '@switchboard/secrets';
import {
  CredentialStore,
  CredentialStoreError,
  generateClientKey,
  loadClientKeyring,
  type PeerCredentials,
} from './credential-store';

const keyring = (id = 'k1', key = randomBytes(32)): Keyring => new Keyring([{ id, key }]);

function credentials(overrides: Partial<PeerCredentials> = {}): PeerCredentials {
  const current = issueToken();
  const old = issueToken();
  return {
    gatewayUrl: 'https://gateway.example.com',
    peerId: 'shop',
    credentialId: current.credentialId,
    expiresAt: '2030-01-01T00:00:00.000Z',
    token: current.token,
    previous: { credentialId: old.credentialId, token: old.token, retiresAt: '2029-10-01T00:00:00.000Z' },
    signingSecret: `whsec_${randomBytes(24).toString('base64')}`,
    ...overrides,
  };
}

async function storeError(promise: Promise<unknown>): Promise<CredentialStoreError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(CredentialStoreError);
    return err as CredentialStoreError;
  }
  throw new Error('expected a CredentialStoreError');
}

describe('CredentialStore', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'peer-client-store-'));
    path = join(dir, 'shop.json');
  });

  it('round-trips every field', async () => {
    const store = new CredentialStore(path, keyring());
    const creds = credentials();
    await store.write(creds);
    expect(await store.read()).toEqual(creds);
    expect(await store.exists()).toBe(true);
  });

  it('round-trips a file without previous, expiry or signing secret', async () => {
    const store = new CredentialStore(path, keyring());
    const creds = credentials({ previous: null, expiresAt: null, signingSecret: null });
    await store.write(creds);
    expect(await store.read()).toEqual(creds);
  });

  it('never writes a token, its secret or the signing secret in clear; the file is mode 600', async () => {
    const creds = credentials();
    await new CredentialStore(path, keyring()).write(creds);
    const bytes = readFileSync(path);
    const secretPart = (t: string): string => t.slice(4 + 12 + 1, 4 + 12 + 1 + 32);
    for (const plain of [creds.token, creds.previous!.token, creds.signingSecret!]) {
      expect(bytes.includes(Buffer.from(plain))).toBe(false);
    }
    expect(bytes.includes(Buffer.from(secretPart(creds.token)))).toBe(false);
    expect(bytes.includes(Buffer.from(secretPart(creds.previous!.token)))).toBe(false);
    expect(bytes.toString()).not.toMatch(/sbp_/);

    const file = JSON.parse(bytes.toString());
    expect(file).toMatchObject({
      version: 1,
      peerId: 'shop',
      credentialId: creds.credentialId,
      previous: { credentialId: creds.previous!.credentialId, retiresAt: creds.previous!.retiresAt },
    });
    expect(file.token).toMatch(/^sb1\.k1\./);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('rejects a wrong key with the same id, and a key id it does not have', async () => {
    await new CredentialStore(path, keyring('k1')).write(credentials());
    const wrong = await storeError(new CredentialStore(path, keyring('k1')).read());
    expect(wrong.code).toBe('STORE_DECRYPT_FAILED');
    expect(wrong.message).toMatch(/wrong client key, or the file was modified/);
    const missing = await storeError(new CredentialStore(path, keyring('k2')).read());
    expect(missing.code).toBe('STORE_KEY_MISSING');
    expect(missing.message).toContain('"k1"');
  });

  it('detects tampering: changed gateway URL, swapped tokens, flipped ciphertext, broken JSON', async () => {
    const ring = keyring();
    const store = new CredentialStore(path, ring);
    await store.write(credentials());
    const original = JSON.parse(readFileSync(path, 'utf8'));
    const tamper = async (change: (f: any) => void): Promise<CredentialStoreError> => {
      const f = structuredClone(original);
      change(f);
      writeFileSync(path, JSON.stringify(f));
      return storeError(store.read());
    };

    // Redirecting the token to another host must not work.
    expect((await tamper((f) => (f.gatewayUrl = 'https://evil.example'))).code).toBe('STORE_DECRYPT_FAILED');
    expect(
      (
        await tamper((f) => {
          [f.token, f.previous.token] = [f.previous.token, f.token];
        })
      ).code,
    ).toBe('STORE_DECRYPT_FAILED');
    expect((await tamper((f) => (f.credentialId = f.previous.credentialId))).code).toBe(
      'STORE_DECRYPT_FAILED',
    );
    expect(
      (
        await tamper((f) => {
          const parts = f.token.split('.');
          const ct = Buffer.from(parts[3], 'base64url');
          ct[0] ^= 1;
          parts[3] = ct.toString('base64url');
          f.token = parts.join('.');
        })
      ).code,
    ).toBe('STORE_DECRYPT_FAILED');

    writeFileSync(path, '{"version":1,');
    expect((await storeError(store.read())).code).toBe('STORE_MALFORMED');
    writeFileSync(path, JSON.stringify({ ...original, version: 2 }));
    expect((await storeError(store.read())).message).toMatch(/unsupported version 2/);
  });

  it('reports a missing file clearly', async () => {
    const err = await storeError(new CredentialStore(path, keyring()).read());
    expect(err.code).toBe('STORE_NOT_FOUND');
    expect(err.message).toContain(path);
  });

  it('refuses to write a token that does not match its credential id', async () => {
    const store = new CredentialStore(path, keyring());
    const err = await storeError(store.write(credentials({ credentialId: 'AAAAAAAAAAAA' })));
    expect(err.code).toBe('STORE_INVALID');
    expect(err.message).not.toMatch(/sbp_/);
  });

  it('keeps the old file intact and readable when the write crashes before the rename', async () => {
    const ring = keyring();
    const before = credentials();
    await new CredentialStore(path, ring).write(before);
    const oldBytes = readFileSync(path);

    const crashing = new CredentialStore(path, ring, {
      fs: {
        rename: () => Promise.reject(Object.assign(new Error('simulated crash'), { code: 'EIO' })),
      },
    });
    const err = await storeError(crashing.write(credentials()));
    expect(err.code).toBe('STORE_IO');

    expect(readFileSync(path).equals(oldBytes)).toBe(true);
    expect(await new CredentialStore(path, ring).read()).toEqual(before);
    expect(readdirSync(dir)).toEqual(['shop.json']); // the temp file is cleaned up
  });

  it('ignores a temp file left by a real crash, and replaces the file on the next write', async () => {
    const ring = keyring();
    const store = new CredentialStore(path, ring);
    await store.write(credentials());
    writeFileSync(join(dir, '.shop.json.999.abcdef.tmp'), '{"half":');
    const next = credentials();
    await store.write(next);
    expect(await store.read()).toEqual(next);
  });

  it('fsyncs the temp file before renaming it, and renames exactly once', async () => {
    const calls: string[] = [];
    const store = new CredentialStore(path, keyring(), {
      fs: {
        open: async (...args: Parameters<typeof fsp.open>) => {
          const handle = await fsp.open(...args);
          const sync = handle.sync.bind(handle);
          handle.sync = () => (calls.push(`sync ${String(args[0])}`), sync());
          return handle;
        },
        rename: (from, to) => (calls.push(`rename ${String(to)}`), fsp.rename(from, to)),
      },
    });
    await store.write(credentials());
    expect(calls).toHaveLength(3);
    expect(calls[0]).toMatch(/^sync .*\.tmp$/);
    expect(calls[1]).toBe(`rename ${path}`);
    expect(calls[2]).toBe(`sync ${dir}`);
  });

  it('create() refuses to replace an existing file unless asked', async () => {
    const store = new CredentialStore(path, keyring());
    await store.create(credentials());
    expect((await storeError(store.create(credentials()))).code).toBe('STORE_EXISTS');
    const replacement = credentials();
    await store.create(replacement, { overwrite: true });
    expect(await store.read()).toEqual(replacement);
  });

  it('withLock serializes critical sections and removes the lock', async () => {
    const store = new CredentialStore(path, keyring());
    const log: string[] = [];
    const section = (name: string) => () =>
      store.withLock(async () => {
        log.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 20));
        log.push(`${name} out`);
      });
    await Promise.all([section('a')(), section('b')()]);
    expect(log).toHaveLength(4);
    expect(log[0].split(' ')[0]).toBe(log[1].split(' ')[0]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('client keys', () => {
  it('generateClientKey makes a line parseKeyring accepts, different every time', () => {
    const a = generateClientKey('laptop');
    expect(a).toMatch(/^laptop:[A-Za-z0-9+/]{43}=$/);
    expect(parseKeyring(a).primaryId).toBe('laptop');
    expect(generateClientKey('laptop')).not.toBe(a);
    expect(generateClientKey()).toMatch(/^k\d{8}:/);
  });

  it('loads from the env value or the key file, and refuses both or neither', () => {
    const line = generateClientKey('k9');
    expect(loadClientKeyring({ SWITCHBOARD_CLIENT_KEYS: line }).primaryId).toBe('k9');
    const file = join(mkdtempSync(join(tmpdir(), 'peer-client-key-')), 'key');
    writeFileSync(file, `# client key\n${line}\n`, { mode: 0o600 });
    expect(loadClientKeyring({ SWITCHBOARD_CLIENT_KEYS_FILE: file }).primaryId).toBe('k9');
    expect(() =>
      loadClientKeyring({ SWITCHBOARD_CLIENT_KEYS: line, SWITCHBOARD_CLIENT_KEYS_FILE: file }),
    ).toThrow(/only one/);
    expect(() => loadClientKeyring({})).toThrow(/SWITCHBOARD_CLIENT_KEYS/);
    expect(() => loadClientKeyring({ SWITCHBOARD_CLIENT_KEYS: 'k1:short' })).toThrow(CredentialStoreError);
  });
});
