import { randomBytes } from 'node:crypto';
import { CredentialHasher } from '../credentials/hasher';
import { issueToken } from '../credentials/token';
import { IpAllowlist } from '../peers/ip-allowlist';
import { PeerAuthenticator } from './authenticator';
import { PeerDirectory, type DirectoryPeer } from './directory';
import { FailureTracker } from './failure-tracker';
import { ReplayCache } from './replay-cache';

const PEER_MAX = 3;
const IP_MAX = 10;

function setup(peerFields: Partial<DirectoryPeer> = {}) {
  let t = 1_000_000;
  const hasher = new CredentialHasher(randomBytes(32));
  const token = issueToken();
  const directory = new PeerDirectory();
  directory.replaceAll({
    peers: [
      {
        id: 'shop',
        name: 'Shop',
        kind: 'website',
        provider: 'generic',
        scopes: ['*'],
        allowlist: new IpAllowlist([]),
        rateLimitPerMinute: null,
        status: 'active',
        timezone: null,
        allowUrlCredentials: false,
        signingSecret: 'signing-secret',
        ...peerFields,
      },
    ],
    credentials: [
      {
        id: token.credentialId,
        peerId: 'shop',
        hash: hasher.hash(token.secret),
        createdAt: new Date(0),
        expiresAt: new Date(Date.now() + 86_400_000),
        retiresAt: null,
        revokedAt: null,
      },
    ],
  });
  const failures = new FailureTracker(
    { peerMaxFailures: PEER_MAX, ipMaxFailures: IP_MAX, windowSeconds: 60, baseSeconds: 30, maxSeconds: 900 },
    () => t,
  );
  const replays = new ReplayCache(60_000, 1000, () => t);
  const auth = new PeerAuthenticator(directory, hasher, failures, replays, { warnDays: 14 });
  const wrong = issueToken().token;
  const codeOf = (fn: () => unknown): string => {
    try {
      fn();
      return 'OK';
    } catch (err) {
      return (err as { code: string }).code;
    }
  };
  return {
    auth,
    token: token.token,
    wrong,
    codeOf,
    advance: (ms: number) => (t += ms),
  };
}

describe('PeerAuthenticator lockout', () => {
  it('failures naming a peer from one address lock that address for the peer, never the genuine holder elsewhere', () => {
    const { auth, token, wrong, codeOf } = setup();
    const attack = () =>
      codeOf(() => auth.byToken(wrong, '10.0.0.66', { via: 'basic', claimedPeerId: 'shop' }));
    const codes = Array.from({ length: PEER_MAX + 2 }, attack);
    expect(codes).toEqual(['AUTH_INVALID', 'AUTH_INVALID', 'AUTH_INVALID', 'AUTH_LOCKED', 'AUTH_LOCKED']);
    // The attacker's address cannot even try the real token now (guessing is bounded per source) …
    expect(codeOf(() => auth.byToken(token, '10.0.0.66', 'bearer'))).toBe('AUTH_LOCKED');
    // … but the holder passes from its own address, every way.
    expect(codeOf(() => auth.byToken(token, '10.0.0.1', 'bearer'))).toBe('OK');
    expect(codeOf(() => auth.byToken(token, '10.0.0.1', { via: 'basic', claimedPeerId: 'shop' }))).toBe('OK');
    // Elsewhere a wrong guess is told the peer is locked (soft lock) while the right one passes.
    expect(codeOf(() => auth.byToken(wrong, '10.0.0.2', { via: 'basic', claimedPeerId: 'shop' }))).toBe(
      'AUTH_LOCKED',
    );
    expect(codeOf(() => auth.byToken(token, '10.0.0.2', { via: 'basic', claimedPeerId: 'shop' }))).toBe('OK');
  });

  it('many attacker addresses together never lock the holder', () => {
    const { auth, token, wrong, codeOf } = setup();
    for (let a = 0; a < 50; a++)
      for (let n = 0; n < PEER_MAX; n++)
        codeOf(() => auth.byToken(wrong, `10.1.0.${a}`, { via: 'login', claimedPeerId: 'shop' }));
    expect(codeOf(() => auth.byToken(token, '10.0.0.1', { via: 'login', claimedPeerId: 'shop' }))).toBe('OK');
  });

  it('signatures naming the peer: the same per-source and soft locks; the genuine signature passes', async () => {
    const { auth } = setup();
    const bad = () => ({ ok: false as const, reason: 'mismatch' as const });
    const good = (secret: string) =>
      secret === 'signing-secret'
        ? { ok: true as const }
        : { ok: false as const, reason: 'mismatch' as const };
    const sig = async (ip: string, verify: typeof good) => {
      try {
        await auth.bySignature('shop', ip, 'signature', verify);
        return 'OK';
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    for (let n = 0; n < PEER_MAX; n++) expect(await sig('10.0.0.66', bad)).toBe('AUTH_SIGNATURE_INVALID');
    expect(await sig('10.0.0.66', good)).toBe('AUTH_LOCKED');
    expect(await sig('10.0.0.1', good)).toBe('OK');
    expect(await sig('10.0.0.1', bad)).toBe('AUTH_LOCKED');
  });

  it('an address failing for many peer ids is locked as a whole', () => {
    const { auth, token, wrong, codeOf } = setup();
    for (let n = 0; n < IP_MAX; n++)
      codeOf(() => auth.byToken(wrong, '10.0.0.66', { via: 'basic', claimedPeerId: `ghost-${n}` }));
    expect(codeOf(() => auth.byToken(token, '10.0.0.66', 'bearer'))).toBe('AUTH_LOCKED');
    expect(codeOf(() => auth.byToken(token, '10.0.0.67', 'bearer'))).toBe('OK');
  });

  it('locks end after their time', () => {
    const { auth, token, wrong, codeOf, advance } = setup();
    for (let n = 0; n < PEER_MAX; n++)
      codeOf(() => auth.byToken(wrong, '10.0.0.66', { via: 'basic', claimedPeerId: 'shop' }));
    expect(codeOf(() => auth.byToken(token, '10.0.0.66', 'bearer'))).toBe('AUTH_LOCKED');
    advance(31_000);
    expect(codeOf(() => auth.byToken(token, '10.0.0.66', 'bearer'))).toBe('OK');
  });
});

describe('PeerAuthenticator URL credentials', () => {
  it('refuses a genuine token presented in the URL unless the peer allows it', () => {
    const strict = setup();
    expect(
      strict.codeOf(() => strict.auth.byToken(strict.token, '10.0.0.1', { via: 'bearer', inUrl: true })),
    ).toBe('AUTH_URL_CREDENTIALS_DISABLED');
    // A wrong token in the URL learns nothing more than elsewhere.
    expect(
      strict.codeOf(() => strict.auth.byToken(strict.wrong, '10.0.0.1', { via: 'bearer', inUrl: true })),
    ).toBe('AUTH_INVALID');
    const legacy = setup({ allowUrlCredentials: true });
    expect(
      legacy.codeOf(() => legacy.auth.byToken(legacy.token, '10.0.0.1', { via: 'bearer', inUrl: true })),
    ).toBe('OK');
  });
});

describe('PeerAuthenticator replay reservation', () => {
  it('a message id is refused while reserved or accepted, and free again once released', async () => {
    const { auth } = setup();
    const ok = () => ({ ok: true as const });
    const first = await auth.bySignature('shop', '10.0.0.1', 'signature', ok, 'msg_1');
    expect(first.replayKey).toBe('shop:msg_1');
    await expect(auth.bySignature('shop', '10.0.0.1', 'signature', ok, 'msg_1')).rejects.toMatchObject({
      code: 'AUTH_REPLAYED',
    });
    auth.releaseReplay(first.replayKey!);
    await expect(auth.bySignature('shop', '10.0.0.1', 'signature', ok, 'msg_1')).resolves.toMatchObject({
      id: 'shop',
    });
  });
});
