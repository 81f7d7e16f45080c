import { AuthError, type AuthErrorCode } from '@switchboard/contracts';
import { CredentialHasher } from '../credentials/hasher';
import { authFailureCode, expiryWarning, type ExpiryWarning } from '../credentials/policy';
import { parseToken } from '../credentials/token';
import type { VerifyResult } from '../signatures/types';
import type { DirectoryPeer, PeerDirectory } from './directory';
import type { FailureTracker } from './failure-tracker';
import type { ReplayCache } from './replay-cache';

export type Presentation = 'bearer' | 'basic' | 'login' | 'signature' | 'provider';

/** Who is calling, as routes and the access log see it. Never holds a secret. */
export interface AuthenticatedPeer {
  id: string;
  kind: DirectoryPeer['kind'];
  provider: DirectoryPeer['provider'];
  scopes: string[];
  rateLimitPerMinute: number | null;
  timezone: string | null;
  testDeliveries: DirectoryPeer['testDeliveries'];
  credentialId: string | null;
  via: Presentation;
  expiryWarning: ExpiryWarning | null;
}

export interface AuthenticatorOptions {
  warnDays: number;
}

const INVALID = 'The credentials were not accepted.';

/**
 * What an unknown peer (or one without a secret) is verified against, so the answer and its cost are the
 * same as for a known peer. Shaped `<key>:<salt>` so that providers whose secret has parts (Mango) parse it
 * and do their full work; a secret of any other provider is an opaque string anyway.
 */
const THROWAWAY_SECRET = `${'x'.repeat(32)}:${'x'.repeat(32)}`;

/**
 * The throwaway path never fails the request: a verifier that rejects the throwaway secret's shape by throwing
 * counts as a mismatch, never as a 500 that a known peer would not give. (Verifiers should still do their
 * full work and answer `missing`/`malformed` first, as mangoAdapter does, or the cost and those answers differ.)
 */
async function verifyWithThrowaway(
  verify: (secret: string) => VerifyResult | Promise<VerifyResult>,
): Promise<VerifyResult> {
  try {
    return await verify(THROWAWAY_SECRET);
  } catch {
    return { ok: false, reason: 'mismatch' };
  }
}

/**
 * A known peer's secret that its verifier cannot use is the operator's mistake, not the caller's: it stays an
 * internal error (logged, alerting, and retried by providers once fixed), now naming the peer.
 */
async function verifyWithPeerSecret(
  peerId: string,
  secret: string,
  verify: (secret: string) => VerifyResult | Promise<VerifyResult>,
): Promise<VerifyResult> {
  try {
    return await verify(secret);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`the signing secret of peer "${peerId}" cannot be used: ${reason}`, { cause: err });
  }
}

/**
 * Checks a presented credential or signature against the in-memory directory. Order matters for
 * enumeration: lockout first (keyed by the CLAIMED id, known or not), then the secret (same work and the same
 * answer for unknown ids), and only a caller holding a real secret learns about expiry, revocation or addresses.
 */
export class PeerAuthenticator {
  constructor(
    private readonly directory: PeerDirectory,
    private readonly hasher: CredentialHasher,
    private readonly failures: FailureTracker,
    private readonly replays: ReplayCache,
    private readonly opts: AuthenticatorOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  byToken(token: string, ip: string, via: Presentation, claimedPeerId?: string): AuthenticatedPeer {
    this.ensureReady();
    const parsed = parseToken(token);
    const cred = parsed ? this.directory.credential(parsed.credentialId) : undefined;
    const claimed = claimedPeerId ?? cred?.peerId ?? `cred:${parsed?.credentialId ?? 'malformed'}`;
    const keys = [`ip:${ip}`, `peer:${claimed}`];
    this.ensureNotLocked(keys);

    const genuine =
      parsed && cred ? this.hasher.verify(parsed.secret, cred.hash) : this.hasher.dummyVerify(parsed?.secret);
    if (!genuine || !cred || (claimedPeerId !== undefined && cred.peerId !== claimedPeerId)) {
      this.failures.record(keys);
      throw new AuthError('AUTH_INVALID', INVALID);
    }
    const peer = this.directory.peer(cred.peerId);
    if (!peer) throw new AuthError('AUTH_INVALID', INVALID);
    const now = this.now();
    const dead = authFailureCode(cred, now);
    if (dead === 'AUTH_REVOKED') throw new AuthError(dead, 'This credential has been revoked.');
    if (dead === 'AUTH_EXPIRED')
      throw new AuthError(
        dead,
        'This credential has expired or was retired by a rotation; use the newer one.',
      );
    this.checkPeer(peer, ip);
    return this.identity(peer, via, cred.id, expiryWarning(cred, now, this.opts.warnDays));
  }

  /**
   * A request signed with the peer's signing secret. `verify` recomputes the signature; `replayId` (e.g. the
   * webhook-id) is remembered once the signature is genuine, so the same signed request is accepted once.
   */
  async bySignature(
    peerId: string,
    ip: string,
    via: Presentation,
    verify: (secret: string) => VerifyResult | Promise<VerifyResult>,
    replayId?: string,
    /** Provider routes: a peer configured for another provider is treated like an unknown one. */
    expectProvider?: string,
  ): Promise<AuthenticatedPeer> {
    this.ensureReady();
    const keys = [`ip:${ip}`, `peer:${peerId}`];
    this.ensureNotLocked(keys);
    const found = this.directory.peer(peerId);
    const peer = expectProvider === undefined || found?.provider === expectProvider ? found : undefined;
    const result = peer?.signingSecret
      ? await verifyWithPeerSecret(peer.id, peer.signingSecret, verify)
      : await verifyWithThrowaway(verify);
    if (!result.ok || !peer?.signingSecret) {
      if (result.ok || result.reason !== 'missing') this.failures.record(keys);
      const code: AuthErrorCode =
        !result.ok && result.reason === 'missing'
          ? 'AUTH_MISSING'
          : !result.ok && (result.reason === 'expired' || result.reason === 'replayed')
            ? 'AUTH_REPLAYED'
            : 'AUTH_SIGNATURE_INVALID';
      throw new AuthError(
        code,
        code === 'AUTH_MISSING'
          ? 'This route needs a signed request.'
          : code === 'AUTH_REPLAYED'
            ? 'The signed request is outside its time window or was already received.'
            : 'The request signature does not match.',
      );
    }
    if (replayId !== undefined && this.replays.checkAndRemember(`${peerId}:${replayId}`)) {
      throw new AuthError(
        'AUTH_REPLAYED',
        'The signed request is outside its time window or was already received.',
      );
    }
    this.checkPeer(peer, ip);
    return this.identity(peer, via, null, null);
  }

  private ensureReady(): void {
    if (!this.directory.ready) {
      throw new AuthError('AUTH_UNAVAILABLE', 'Peer credentials are not loaded yet; retry shortly.', 1);
    }
  }

  private ensureNotLocked(keys: string[]): void {
    const seconds = this.failures.lockedFor(keys);
    if (seconds > 0) {
      throw new AuthError('AUTH_LOCKED', 'Too many failed attempts; wait before trying again.', seconds);
    }
  }

  private checkPeer(peer: DirectoryPeer, ip: string): void {
    if (peer.status !== 'active') throw new AuthError('AUTH_REVOKED', 'This peer has been disabled.');
    if (!peer.allowlist.allows(ip)) {
      throw new AuthError('AUTH_IP_DENIED', 'Calls from this address are not allowed for this peer.');
    }
  }

  private identity(
    peer: DirectoryPeer,
    via: Presentation,
    credentialId: string | null,
    warning: ExpiryWarning | null,
  ): AuthenticatedPeer {
    return {
      id: peer.id,
      kind: peer.kind,
      provider: peer.provider,
      scopes: peer.scopes,
      rateLimitPerMinute: peer.rateLimitPerMinute,
      timezone: peer.timezone,
      testDeliveries: peer.testDeliveries,
      credentialId,
      via,
      expiryWarning: warning,
    };
  }
}
