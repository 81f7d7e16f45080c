import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Keyring, requireKeys, rewrapAll, SecretBox, SecretDecryptError } from './index';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const AAD = 'peer:shop-a:signing-secret';
const TOKEN = /^sb1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/;

const b64url = (b: Buffer): string => b.toString('base64url');

function decryptError(fn: () => unknown): SecretDecryptError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretDecryptError);
    return err as SecretDecryptError;
  }
  throw new Error('expected a SecretDecryptError');
}

/** Applies `change` to the decoded bytes of part `index` (2 = iv, 3 = ciphertext, 4 = tag) of a token. */
function mutate(token: string, index: number, change: (b: Buffer) => Buffer | number): string {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[index], 'base64url');
  const changed = change(bytes);
  parts[index] = b64url(Buffer.isBuffer(changed) ? changed : bytes);
  return parts.join('.');
}

describe('SecretBox', () => {
  const box = new SecretBox(new Keyring([k1, k2]));

  it.each([
    ['ascii', 'whsec_0123456789abcdef'],
    ['unicode', 'пароль — 密码 — 🔑'],
    ['empty', ''],
    ['long', 'x'.repeat(100_000)],
  ])('round-trips a %s string', (_name, plaintext) => {
    const token = box.seal(plaintext, AAD);
    expect(token).toMatch(TOKEN);
    expect(box.openString(token, AAD)).toBe(plaintext);
  });

  it('round-trips binary data, including every byte value and an empty buffer', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(box.open(box.seal(bytes))).toEqual(bytes);
    expect(box.open(box.seal(new Uint8Array(bytes)))).toEqual(bytes);
    expect(box.open(box.seal(Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });

  it('uses a fresh IV for every seal', () => {
    const tokens = Array.from({ length: 50 }, () => box.seal('same secret', AAD));
    expect(new Set(tokens).size).toBe(50);
    expect(new Set(tokens.map((t) => t.split('.')[2])).size).toBe(50);
  });

  it('never contains the plaintext, plain or base64-encoded', () => {
    const plaintext = 'RECOGNIZABLE-PLAINTEXT-1234567890';
    const token = box.seal(plaintext);
    const bytes = Buffer.from(plaintext);
    for (const shown of [plaintext, bytes.toString('base64'), b64url(bytes), bytes.toString('hex')]) {
      expect(token).not.toContain(shown.slice(0, 16));
    }
  });

  it.each([
    ['a ciphertext byte', 3, (b: Buffer) => (b[0] ^= 1)],
    ['the last ciphertext byte', 3, (b: Buffer) => (b[b.length - 1] ^= 0x80)],
    ['a tag byte', 4, (b: Buffer) => (b[7] ^= 1)],
    ['an IV byte', 2, (b: Buffer) => (b[11] ^= 1)],
  ])('detects tampering with %s', (_name, index, change) => {
    const token = mutate(box.seal('secret', AAD), index, change);
    expect(decryptError(() => box.open(token, AAD)).code).toBe('SECRET_TAMPERED');
  });

  it('detects a truncated ciphertext and a key id swapped to another existing key', () => {
    const token = box.seal('secret', AAD);
    const truncated = mutate(token, 3, (b) => b.subarray(0, -1));
    expect(decryptError(() => box.open(truncated, AAD)).code).toBe('SECRET_TAMPERED');
    const swapped = token.replace('sb1.k2.', 'sb1.k1.');
    expect(decryptError(() => box.open(swapped, AAD)).code).toBe('SECRET_TAMPERED');
  });

  it('reports an unknown key id as SECRET_KEY_MISSING, naming it', () => {
    const err = decryptError(() => box.open(box.seal('secret').replace('sb1.k2.', 'sb1.k9.')));
    expect(err.code).toBe('SECRET_KEY_MISSING');
    expect(err.message).toContain('"k9"');
    expect(err.keyIds).toEqual(['k9']);
  });

  it('binds the ciphertext to its AAD context', () => {
    const token = box.seal('secret', AAD);
    for (const other of ['peer:shop-b:signing-secret', '', undefined]) {
      expect(decryptError(() => box.open(token, other)).code).toBe('SECRET_TAMPERED');
    }
    expect(decryptError(() => box.open(box.seal('secret'), AAD)).code).toBe('SECRET_TAMPERED');
    expect(box.openString(box.seal('secret'), '')).toBe('secret');
  });

  it.each([
    ['empty', ''],
    ['wrong version', box.seal('x').replace(/^sb1/, 'sb2')],
    ['too few parts', 'sb1.k2.AAAA.AAAA'],
    ['too many parts', `${box.seal('x')}.AAAA`],
    ['empty key id', box.seal('x').replace('sb1.k2.', 'sb1..')],
    ['bad characters', box.seal('x').replace(/\.([^.]+)$/, '.+/$1')],
    ['short IV', mutate(box.seal('x'), 2, (b) => b.subarray(0, 9))],
    ['short tag', mutate(box.seal('x'), 4, (b) => b.subarray(0, 12))],
    ['not a string', 42 as unknown as string],
  ])('rejects a malformed token (%s)', (_name, token) => {
    expect(decryptError(() => box.open(token)).code).toBe('SECRET_MALFORMED');
  });

  it('survives key rotation: old tokens open, need rewrap, and rewrap under the new primary', () => {
    const old = new SecretBox(new Keyring([k1]));
    const token = old.seal('provider secret', AAD);
    expect(old.keyIdOf(token)).toBe('k1');
    expect(old.needsRewrap(token)).toBe(false);

    const rotated = new SecretBox(new Keyring([k1, k2]));
    expect(rotated.primaryKeyId).toBe('k2');
    expect(rotated.openString(token, AAD)).toBe('provider secret');
    expect(rotated.needsRewrap(token)).toBe(true);
    const rewrapped = rotated.rewrap(token, AAD);
    expect(rotated.keyIdOf(rewrapped)).toBe('k2');
    expect(rotated.needsRewrap(rewrapped)).toBe(false);
    expect(rotated.openString(rewrapped, AAD)).toBe('provider secret');
    expect(rotated.rewrap(rewrapped, AAD)).toBe(rewrapped);
    expect(decryptError(() => rotated.rewrap(token, 'peer:other')).code).toBe('SECRET_TAMPERED');

    const k1Retired = new SecretBox(new Keyring([k2]));
    expect(k1Retired.openString(rewrapped, AAD)).toBe('provider secret');
    const err = decryptError(() => k1Retired.open(token, AAD));
    expect(err.code).toBe('SECRET_KEY_MISSING');
    expect(err.message).toContain('"k1"');
  });

  describe('is standard AES-256-GCM', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
    const iv = Buffer.from('cafebabefacedbaddecaf888', 'hex');
    const fixed = new SecretBox(new Keyring([{ id: 'kat', key }]));

    it('opens a token built by hand from node:crypto output', () => {
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(AAD, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update('héllo, forge', 'utf8'), cipher.final()]);
      const token = ['sb1', 'kat', b64url(iv), b64url(ciphertext), b64url(cipher.getAuthTag())].join('.');
      expect(fixed.openString(token, AAD)).toBe('héllo, forge');
    });

    it('seals tokens that node:crypto decrypts', () => {
      const [, , ivPart, ciphertext, tag] = fixed.seal('round trip', AAD).split('.');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivPart, 'base64url'));
      decipher.setAAD(Buffer.from(AAD, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plaintext = Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]);
      expect(plaintext.toString('utf8')).toBe('round trip');
    });

    it('matches the NIST GCM test case 15 (AES-256, 96-bit IV, no AAD)', () => {
      const hex = (h: string): Buffer => Buffer.from(h, 'hex');
      const nistKey = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
      const token = [
        'sb1',
        'nist',
        b64url(iv),
        b64url(
          hex(
            '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
              '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
          ),
        ),
        b64url(hex('b094dac5d93471bdec1a502270e3cc6c')),
      ].join('.');
      const nist = new SecretBox(new Keyring([{ id: 'nist', key: nistKey }]));
      expect(nist.open(token).toString('hex')).toBe(
        'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
          '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
      );
    });
  });
});

describe('rewrapAll', () => {
  const old = new SecretBox(new Keyring([k1]));
  const box = new SecretBox(new Keyring([k1, k2]));

  it('returns only the rows not under the primary key, re-encrypted, from arrays or async iterables', async () => {
    const rows = [
      { id: 1, token: old.seal('a', 'row:1'), aad: 'row:1' },
      { id: 2, token: box.seal('b', 'row:2'), aad: 'row:2' },
      { id: 3, token: old.seal('c') },
    ];
    async function* stream() {
      yield* rows;
    }
    for (const source of [rows, stream()]) {
      const changed = await rewrapAll(source, box);
      expect(changed.map((r) => r.id)).toEqual([1, 3]);
      expect(changed.every((r) => box.keyIdOf(r.token) === 'k2')).toBe(true);
      expect(box.openString(changed[0].token, 'row:1')).toBe('a');
      expect(box.openString(changed[1].token)).toBe('c');
      expect(changed[0].aad).toBe('row:1');
    }
  });

  it('fails naming the row when a token does not open', async () => {
    const rows = [{ id: 'peer-7', token: old.seal('a', 'row:1'), aad: 'row:2' }];
    await expect(rewrapAll(rows, box)).rejects.toMatchObject({
      code: 'SECRET_TAMPERED',
      message: expect.stringContaining('Row peer-7'),
    });
    const k1Retired = new SecretBox(new Keyring([k2]));
    await expect(rewrapAll([{ id: 9, token: old.seal('a') }], k1Retired)).rejects.toMatchObject({
      code: 'SECRET_KEY_MISSING',
      keyIds: ['k1'],
    });
  });
});

describe('requireKeys', () => {
  it('passes when every stored token has its key, and lists all missing key ids otherwise', () => {
    const k0 = { id: 'k0', key: randomBytes(32) };
    const tokens = [k0, k1, k2, k1].map((k) => new SecretBox(new Keyring([k])).seal('s'));
    expect(() => requireKeys(new SecretBox(new Keyring([k0, k1, k2])), tokens)).not.toThrow();
    expect(() => requireKeys(new SecretBox(new Keyring([k2])), [])).not.toThrow();
    const err = decryptError(() => requireKeys(new SecretBox(new Keyring([k2])), tokens));
    expect(err.code).toBe('SECRET_KEY_MISSING');
    expect(err.keyIds).toEqual(['k0', 'k1']);
    expect(err.message).toContain('k0, k1');
  });
});
