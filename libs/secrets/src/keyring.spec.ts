import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Keyring, loadKeyring, parseKeyring, SecretsConfigError } from './index';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const spec = `k2:${k2.toString('base64')},k1:${k1.toString('base64')}`;

function configError(fn: () => unknown): SecretsConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretsConfigError);
    expect((err as SecretsConfigError).code).toBe('SECRETS_CONFIG_INVALID');
    return err as SecretsConfigError;
  }
  throw new Error('expected a SecretsConfigError');
}

describe('Keyring', () => {
  it('makes the last key primary unless one is named', () => {
    expect(
      new Keyring([
        { id: 'k1', key: k1 },
        { id: 'k2', key: k2 },
      ]).primaryId,
    ).toBe('k2');
    const ring = new Keyring(
      [
        { id: 'k1', key: k1 },
        { id: 'k2', key: k2 },
      ],
      'k1',
    );
    expect(ring.primaryId).toBe('k1');
    expect(ring.ids).toEqual(['k1', 'k2']);
    expect(ring.has('k2')).toBe(true);
    expect(ring.has('k3')).toBe(false);
  });

  it('rejects an empty list, duplicate ids, wrong key lengths, bad ids and an unknown primary', () => {
    expect(configError(() => new Keyring([])).message).toMatch(/empty/);
    expect(
      configError(
        () =>
          new Keyring([
            { id: 'a', key: k1 },
            { id: 'a', key: k2 },
          ]),
      ).message,
    ).toMatch(/Duplicate master key id "a"/);
    expect(configError(() => new Keyring([{ id: 'a', key: randomBytes(16) }])).message).toMatch(
      /"a" must be 32 bytes, got 16/,
    );
    expect(configError(() => new Keyring([{ id: 'a.b', key: k1 }])).message).toMatch(/must match/);
    expect(configError(() => new Keyring([{ id: 'a', key: k1 }], 'b')).message).toMatch(/"b" is not in/);
  });

  it('does not show key material when inspected or serialized', () => {
    const ring = new Keyring([{ id: 'k1', key: k1 }]);
    for (const shown of [inspect(ring, { depth: 10, showHidden: true }), JSON.stringify(ring)]) {
      expect(shown).not.toContain(k1.toString('hex'));
      expect(shown).not.toContain(k1.toString('base64'));
      expect(shown).not.toMatch(/<Buffer/);
    }
  });

  it('copies keys, so later changes to the caller buffer do not change the keyring', () => {
    const key = Buffer.from(k1);
    const ring = new Keyring([{ id: 'k1', key }]);
    key.fill(0);
    expect(ring.key('k1')).toEqual(k1);
  });
});

describe('parseKeyring', () => {
  it('parses "id:base64" entries; the first is primary', () => {
    const ring = parseKeyring(spec);
    expect(ring.primaryId).toBe('k2');
    expect(ring.key('k1')).toEqual(k1);
    expect(ring.key('k2')).toEqual(k2);
  });

  it('accepts one entry per line with # comments (key files)', () => {
    const text = `# master keys, newest first\nk2:${k2.toString('base64')}  # since 2024\n\n  k1:${k1.toString('base64')}\n`;
    const ring = parseKeyring(text);
    expect(ring.ids).toEqual(['k2', 'k1']);
    expect(ring.primaryId).toBe('k2');
  });

  it.each([
    ['empty', '', /No master keys/],
    ['only comments', '# nothing\n , ', /No master keys/],
    ['no id', k1.toString('base64'), /entry 1 is not of the form/],
    ['empty id', `:${k1.toString('base64')}`, /entry 1 is not of the form/],
    ['bad id', `k 1:${k1.toString('base64')}`, /entry 1: the id must match/],
    ['bad base64', `k1:${k1.toString('base64').replace(/.$/, '!')}`, /"k1" is not valid base64/],
    ['wrong length', `k1:${randomBytes(31).toString('base64')}`, /"k1" must be 32 bytes, got 31/],
    [
      'duplicate id',
      `k1:${k1.toString('base64')},k1:${k2.toString('base64')}`,
      /Duplicate master key id "k1"/,
    ],
  ])('rejects %s clearly, without key material in the message', (_name, input, message) => {
    const err = configError(() => parseKeyring(input));
    expect(err.message).toMatch(message);
    for (const key of [k1, k2]) expect(err.message).not.toContain(key.toString('base64').slice(0, 12));
  });
});

describe('loadKeyring', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-secrets-'));

  it('reads SWITCHBOARD_MASTER_KEYS', () => {
    expect(loadKeyring({ env: { SWITCHBOARD_MASTER_KEYS: spec } }).primaryId).toBe('k2');
  });

  it('reads the file named by SWITCHBOARD_MASTER_KEYS_FILE, or an explicit file', () => {
    const file = join(dir, 'keys');
    writeFileSync(file, `# keys\nk1:${k1.toString('base64')}\n`);
    expect(loadKeyring({ env: { SWITCHBOARD_MASTER_KEYS_FILE: file } }).ids).toEqual(['k1']);
    expect(loadKeyring({ env: { SWITCHBOARD_MASTER_KEYS: spec }, file }).ids).toEqual(['k1']);
  });

  it('refuses ambiguous, missing and unreadable configuration', () => {
    const file = join(dir, 'keys');
    expect(
      configError(() =>
        loadKeyring({ env: { SWITCHBOARD_MASTER_KEYS: spec, SWITCHBOARD_MASTER_KEYS_FILE: file } }),
      ).message,
    ).toMatch(/only one of/);
    expect(configError(() => loadKeyring({ env: {} })).message).toMatch(/No master keys configured/);
    expect(configError(() => loadKeyring({ env: {}, file: join(dir, 'absent') })).message).toMatch(
      /Cannot read master key file .*absent/,
    );
  });
});
