import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { randomBytes } from 'node:crypto';
import { CredentialHasher, loadPepper } from './hasher';
import { issueToken } from './token';

const pepperA = Buffer.alloc(32, 0xa1);
const pepperB = Buffer.alloc(32, 0xb2);

describe('CredentialHasher', () => {
  const hasher = new CredentialHasher(pepperA);
  const { secret } = issueToken();

  it('hash is hex HMAC-SHA256, deterministic per pepper', () => {
    const h = hasher.hash(secret);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hasher.hash(secret)).toBe(h);
    expect(new CredentialHasher(Buffer.from(pepperA)).hash(secret)).toBe(h);
    expect(new CredentialHasher(pepperB).hash(secret)).not.toBe(h);
    expect(hasher.hash(issueToken().secret)).not.toBe(h);
  });

  it('is not affected by later mutation of the pepper buffer', () => {
    const p = Buffer.from(pepperA);
    const h = new CredentialHasher(p);
    const before = h.hash(secret);
    p.fill(0);
    expect(h.hash(secret)).toBe(before);
  });

  it('verify: true for the right secret, false otherwise', () => {
    const stored = hasher.hash(secret);
    expect(hasher.verify(secret, stored)).toBe(true);
    expect(hasher.verify(secret.slice(1), stored)).toBe(false);
    expect(hasher.verify(issueToken().secret, stored)).toBe(false);
    expect(new CredentialHasher(pepperB).verify(secret, stored)).toBe(false);
  });

  it('verify: false on a malformed stored value', () => {
    const stored = hasher.hash(secret);
    for (const bad of [
      '',
      stored.slice(2),
      stored + '00',
      stored.toUpperCase(),
      'z'.repeat(64),
      ` ${stored.slice(1)}`,
      null,
      undefined,
      42,
    ]) {
      expect(hasher.verify(secret, bad as unknown as string)).toBe(false);
    }
  });

  it('dummyVerify is always false', () => {
    expect(hasher.dummyVerify()).toBe(false);
    expect(hasher.dummyVerify(secret)).toBe(false);
  });

  it('rejects a short or missing pepper', () => {
    expect(() => new CredentialHasher(Buffer.alloc(31))).toThrow(/at least 32 bytes/);
    expect(() => new CredentialHasher('x'.repeat(64) as unknown as Buffer)).toThrow(/at least 32 bytes/);
  });

  it('does not expose the pepper via inspect or JSON', () => {
    const p = randomBytes(32);
    const h = new CredentialHasher(p);
    const shown = inspect(h, { depth: 10, showHidden: true }) + JSON.stringify(h);
    expect(shown).not.toContain(p.toString('hex'));
    expect(shown).not.toContain(p.toString('base64'));
  });
});

describe('loadPepper', () => {
  const good = randomBytes(32).toString('base64');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-pepper-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads SWITCHBOARD_PEPPER', () => {
    const p = loadPepper({ env: { SWITCHBOARD_PEPPER: good } });
    expect(p.toString('base64')).toBe(good);
    expect(() => new CredentialHasher(p)).not.toThrow();
  });

  it('reads SWITCHBOARD_PEPPER_FILE (trailing newline ignored)', () => {
    const file = join(dir, 'pepper');
    writeFileSync(file, `${good}\n`, { mode: 0o600 });
    expect(loadPepper({ env: { SWITCHBOARD_PEPPER_FILE: file } }).toString('base64')).toBe(good);
  });

  it('accepts a longer pepper', () => {
    const long = randomBytes(64).toString('base64');
    expect(loadPepper({ env: { SWITCHBOARD_PEPPER: long } })).toHaveLength(64);
  });

  it('missing: names both variables', () => {
    expect(() => loadPepper({ env: {} })).toThrow(/SWITCHBOARD_PEPPER.*SWITCHBOARD_PEPPER_FILE/);
    expect(() => loadPepper({ env: { SWITCHBOARD_PEPPER: '' } })).toThrow(/missing/);
  });

  it('both set: refuses', () => {
    expect(() => loadPepper({ env: { SWITCHBOARD_PEPPER: good, SWITCHBOARD_PEPPER_FILE: '/x' } })).toThrow(
      /only one/,
    );
  });

  it('short env pepper: names the variable, never echoes the value', () => {
    const shortRaw = Buffer.from('hunter2-secret-value-shortXY');
    const short = shortRaw.toString('base64');
    let message = '';
    try {
      loadPepper({ env: { SWITCHBOARD_PEPPER: short } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('SWITCHBOARD_PEPPER');
    expect(message).toMatch(/at least 32 bytes/);
    expect(message).not.toContain(short);
    expect(message).not.toContain('hunter2');
  });

  it('invalid base64: names the variable, never echoes the value', () => {
    const value = 'not base64 at all! hunter2 '.repeat(3);
    let message = '';
    try {
      loadPepper({ env: { SWITCHBOARD_PEPPER: value } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/SWITCHBOARD_PEPPER is not valid base64/);
    expect(message).not.toContain('hunter2');
  });

  it('short file pepper: names the variable, never echoes the content', () => {
    const file = join(dir, 'short');
    const short = Buffer.from('hunter2-too-short').toString('base64');
    writeFileSync(file, short);
    let message = '';
    try {
      loadPepper({ env: { SWITCHBOARD_PEPPER_FILE: file } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('SWITCHBOARD_PEPPER_FILE');
    expect(message).not.toContain(short);
  });

  it('unreadable file: names the variable', () => {
    expect(() => loadPepper({ env: { SWITCHBOARD_PEPPER_FILE: join(dir, 'nope') } })).toThrow(
      /SWITCHBOARD_PEPPER_FILE .*could not be read: ENOENT/,
    );
  });
});
