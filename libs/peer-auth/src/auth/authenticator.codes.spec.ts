import { randomBytes } from 'node:crypto';
import { AuthError } from '@switchboard/contracts';
import { CredentialHasher } from '../credentials/hasher';
import { issueToken } from '../credentials/token';
import { IpAllowlist } from '../peers/ip-allowlist';
import { PeerAuthenticator } from './authenticator';
import { DirectoryCredential, DirectoryPeer, PeerDirectory } from './directory';
import { FailureTracker } from './failure-tracker';
import { ReplayCache } from './replay-cache';

const NOW = new Date('2026-12-07T12:00:00.000Z');
const DAY = 86_400_000;
const hasher = new CredentialHasher(randomBytes(32));

function peer(overrides: Partial<DirectoryPeer> = {}): DirectoryPeer {
  return {
    id: 'shop',
    name: 'Shop',
    kind: 'website',
    provider: null,
    scopes: ['website.*'],
    allowlist: new IpAllowlist([]),
    rateLimitPerMinute: null,
    status: 'active',
    timezone: null,
    signingSecret: null,
    ...overrides,
  } as DirectoryPeer;
}

function credential(peerId: string, overrides: Partial<DirectoryCredential> = {}) {
  const issued = issueToken();
  const cred: DirectoryCredential = {
    id: issued.credentialId,
    peerId,
    hash: hasher.hash(issued.secret),
    createdAt: new Date(NOW.getTime() - DAY),
    expiresAt: new Date(NOW.getTime() + 90 * DAY),
    retiresAt: null,
    revokedAt: null,
    ...overrides,
  };
  return { token: issued.token, cred };
}

/** The authenticator on a loaded directory (unless `loaded` is false), with lockout far away. */
function authenticator(peers: DirectoryPeer[], credentials: DirectoryCredential[], loaded = true) {
  const directory = new PeerDirectory();
  if (loaded) directory.replaceAll({ peers, credentials });
  const failures = new FailureTracker(
    { peerMaxFailures: 1000, ipMaxFailures: 1000, windowSeconds: 60, baseSeconds: 1, maxSeconds: 2 },
    () => NOW.getTime(),
  );
  return new PeerAuthenticator(
    directory,
    hasher,
    failures,
    new ReplayCache(60_000),
    { warnDays: 14 },
    () => NOW,
  );
}

/** The stable code an authentication attempt fails with, or 'ok'. */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (e instanceof AuthError) return e.code;
    throw e;
  }
}

describe('PeerAuthenticator', () => {
  it('accepts a genuine, live credential of an active peer and says who it is', () => {
    const { token, cred } = credential('shop');
    const who = authenticator([peer()], [cred]).byToken(token, '10.0.0.1', 'bearer');
    expect(who).toMatchObject({ id: 'shop', credentialId: cred.id, via: 'bearer', expiryWarning: null });
  });

  it('AUTH_UNAVAILABLE (retryable) until the peer directory is loaded, whatever is presented', async () => {
    const { token, cred } = credential('shop');
    const auth = authenticator([peer()], [cred], false);
    await expect(outcome(() => auth.byToken(token, '10.0.0.1', 'bearer'))).resolves.toBe('AUTH_UNAVAILABLE');
    await expect(
      outcome(() => auth.bySignature('shop', '10.0.0.1', 'signature', () => ({ ok: true }))),
    ).resolves.toBe('AUTH_UNAVAILABLE');
    let retryAfter: unknown;
    try {
      auth.byToken(token, '10.0.0.1', 'bearer');
    } catch (e) {
      retryAfter = (e as AuthError).retryAfterSeconds;
    }
    expect(retryAfter).toBe(1);
  });

  it('AUTH_REVOKED for a genuine credential of a disabled peer', async () => {
    const { token, cred } = credential('shop');
    const auth = authenticator([peer({ status: 'disabled' })], [cred]);
    await expect(outcome(() => auth.byToken(token, '10.0.0.1', 'bearer'))).resolves.toBe('AUTH_REVOKED');
  });

  it('a disabled peer learns nothing from a wrong secret: AUTH_INVALID, as for an unknown peer', async () => {
    const { cred } = credential('shop');
    const other = issueToken().token; // well-formed, unknown credential id
    const auth = authenticator([peer({ status: 'disabled' })], [cred]);
    await expect(outcome(() => auth.byToken(other, '10.0.0.1', 'bearer'))).resolves.toBe('AUTH_INVALID');
    await expect(outcome(() => auth.byToken('sbp_garbage', '10.0.0.1', 'bearer'))).resolves.toBe(
      'AUTH_INVALID',
    );
  });

  it('AUTH_REVOKED for a revoked credential, AUTH_EXPIRED for an expired or retired one', async () => {
    const revoked = credential('shop', { revokedAt: new Date(NOW.getTime() - 1000) });
    const expired = credential('shop', { expiresAt: new Date(NOW.getTime() - 1000) });
    const retired = credential('shop', { retiresAt: new Date(NOW.getTime() - 1000) });
    const auth = authenticator([peer()], [revoked.cred, expired.cred, retired.cred]);
    await expect(outcome(() => auth.byToken(revoked.token, '10.0.0.1', 'bearer'))).resolves.toBe(
      'AUTH_REVOKED',
    );
    await expect(outcome(() => auth.byToken(expired.token, '10.0.0.1', 'bearer'))).resolves.toBe(
      'AUTH_EXPIRED',
    );
    await expect(outcome(() => auth.byToken(retired.token, '10.0.0.1', 'bearer'))).resolves.toBe(
      'AUTH_EXPIRED',
    );
  });

  it('AUTH_INVALID when the credential belongs to another peer than the one claimed', async () => {
    const { token, cred } = credential('shop');
    const auth = authenticator([peer(), peer({ id: 'other' })], [cred]);
    await expect(
      outcome(() => auth.byToken(token, '10.0.0.1', { via: 'basic', claimedPeerId: 'other' })),
    ).resolves.toBe('AUTH_INVALID');
  });

  it('AUTH_IP_DENIED outside the allowlist, only for a genuine credential', async () => {
    const { token, cred } = credential('shop');
    const auth = authenticator([peer({ allowlist: new IpAllowlist(['192.0.2.0/24']) })], [cred]);
    await expect(outcome(() => auth.byToken(token, '192.0.2.7', 'bearer'))).resolves.toBe('ok');
    await expect(outcome(() => auth.byToken(token, '198.51.100.1', 'bearer'))).resolves.toBe(
      'AUTH_IP_DENIED',
    );
  });

  it('warns before expiry within warnDays', () => {
    const { token, cred } = credential('shop', { expiresAt: new Date(NOW.getTime() + 3 * DAY) });
    const who = authenticator([peer()], [cred]).byToken(token, '10.0.0.1', 'bearer');
    expect(who.expiryWarning).not.toBeNull();
  });

  it('signatures: AUTH_MISSING, AUTH_SIGNATURE_INVALID, AUTH_REPLAYED, and a genuine one accepted once', async () => {
    const auth = authenticator([peer({ id: 'woo', signingSecret: 's3cret' })], []);
    const verify = (ok: boolean, reason?: 'missing' | 'mismatch' | 'expired') => (secret: string) =>
      ok && secret === 's3cret'
        ? { ok: true as const }
        : { ok: false as const, reason: reason ?? 'mismatch' };
    const sign = (v: ReturnType<typeof verify>, id?: string) => () =>
      auth.bySignature('woo', '10.0.0.1', 'signature', v, id);
    await expect(outcome(sign(verify(false, 'missing')))).resolves.toBe('AUTH_MISSING');
    await expect(outcome(sign(verify(false, 'mismatch')))).resolves.toBe('AUTH_SIGNATURE_INVALID');
    await expect(outcome(sign(verify(false, 'expired')))).resolves.toBe('AUTH_REPLAYED');
    await expect(outcome(sign(verify(true), 'hook-1'))).resolves.toBe('ok');
    await expect(outcome(sign(verify(true), 'hook-1'))).resolves.toBe('AUTH_REPLAYED');
    // An unknown peer id: the same answer as a wrong signature, never "unknown peer".
    await expect(
      outcome(() => auth.bySignature('nobody', '10.0.0.1', 'signature', verify(true))),
    ).resolves.toBe('AUTH_SIGNATURE_INVALID');
  });

  it('signatures: AUTH_REVOKED for a genuine signature of a disabled peer', async () => {
    const auth = authenticator([peer({ id: 'woo', signingSecret: 's3cret', status: 'disabled' })], []);
    await expect(
      outcome(() => auth.bySignature('woo', '10.0.0.1', 'signature', () => ({ ok: true }))),
    ).resolves.toBe('AUTH_REVOKED');
  });
});
