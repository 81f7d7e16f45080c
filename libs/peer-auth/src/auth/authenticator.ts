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
  /** Signed requests: the replay-cache reservation of their message id (see PeerAuthenticator.bySignature). */
  replayKey?: string;
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
 * Where a credential was presented. `url`: in the query string (`?access_token=`, `?login=&password=`), which
 * proxies and browsers log; refused unless the peer allows it (legacy systems that cannot send headers).
 */
export interface TokenPresentation {
  via: Presentation;
  /** The peer id the caller named (Basic user, `login`); the token's own credential must belong to it. */
  claimedPeerId?: string;
  inUrl?: boolean;
}

/**
 * Lockout keys, so that failures without a genuine secret never deny service to the holder of one:
 * - `ip:<source>`: every failure from one address; locks that address (a high threshold, for NAT).
 * - `pair:<claimed peer>@<source>`: failures naming one peer from one address; locks that pair. These two are
 *   checked BEFORE the secret, so they bound guessing per source, whatever the guess.
 * - `peer:<claimed peer>`: failures naming the peer from anywhere; a SOFT lock, checked only once the secret
 *   did not verify (a failing caller is told AUTH_LOCKED instead of AUTH_INVALID). A verified credential passes.
 * An attacker can thus lock only its own address, never the peer from the peer's address.
 */
export function lockoutKeys(claimed: string, ip: string): { hard: string[]; soft: string } {
  return { hard: [`ip:${ip}`, `pair:${claimed}@${ip}`], soft: `peer:${claimed}` };
}

/** What a refused signed request's `replayKey` must be handed back through, so its sender can retry it. */
export const REPLAY_KEY = (peerId: string, replayId: string) => `${peerId}:${replayId}`;

/**
 * Checks a presented credential or signature against the in-memory directory. Order matters for
 * enumeration: per-source lockout first (keyed by the CLAIMED id, known or not), then the secret (same work and
 * the same answer for unknown ids), and only a caller holding a real secret learns about expiry, revocation,
 * addresses or URL credentials.
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

  byToken(token: string, ip: string, presented: Presentation | TokenPresentation): AuthenticatedPeer {
    const { via, claimedPeerId, inUrl } = typeof presented === 'string' ? { via: presented } : presented;
    this.ensureReady();
    const parsed = parseToken(token);
    const cred = parsed ? this.directory.credential(parsed.credentialId) : undefined;
    const claimed = claimedPeerId ?? cred?.peerId ?? `cred:${parsed?.credentialId ?? 'malformed'}`;
    const keys = lockoutKeys(claimed, ip);
    this.ensureNotLocked(keys.hard);

    const genuine =
      parsed && cred ? this.hasher.verify(parsed.secret, cred.hash) : this.hasher.dummyVerify(parsed?.secret);
    if (!genuine || !cred || (claimedPeerId !== undefined && cred.peerId !== claimedPeerId)) {
      this.refuse(keys, new AuthError('AUTH_INVALID', INVALID));
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
    if (inUrl && !peer.allowUrlCredentials) {
      throw new AuthError(
        'AUTH_URL_CREDENTIALS_DISABLED',
        'Credentials in the URL are not accepted for this peer; send them in a header (Authorization or X-Api-Key).',
      );
    }
    return this.identity(peer, via, cred.id, expiryWarning(cred, now, this.opts.warnDays));
  }

  /**
   * A request signed with the peer's signing secret. `verify` recomputes the signature; `replayId` (e.g. the
   * webhook-id) is reserved once the signature is genuine, so the same signed request is accepted once. The
   * reservation is the identity's `replayKey`: the caller releases it (`releaseReplay`) when the request is
   * refused later on (quota, broker), so the sender's retry of a message that was not accepted still passes.
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
    const keys = lockoutKeys(peerId, ip);
    this.ensureNotLocked(keys.hard);
    const found = this.directory.peer(peerId);
    const peer = expectProvider === undefined || found?.provider === expectProvider ? found : undefined;
    const result = peer?.signingSecret
      ? await verifyWithPeerSecret(peer.id, peer.signingSecret, verify)
      : await verifyWithThrowaway(verify);
    if (!result.ok || !peer?.signingSecret) {
      const code: AuthErrorCode =
        !result.ok && result.reason === 'missing'
          ? 'AUTH_MISSING'
          : !result.ok && (result.reason === 'expired' || result.reason === 'replayed')
            ? 'AUTH_REPLAYED'
            : 'AUTH_SIGNATURE_INVALID';
      const error = new AuthError(
        code,
        code === 'AUTH_MISSING'
          ? 'This route needs a signed request.'
          : code === 'AUTH_REPLAYED'
            ? 'The signed request is outside its time window or was already received.'
            : 'The request signature does not match.',
      );
      if (code === 'AUTH_MISSING') throw error;
      this.refuse(keys, error);
    }
    this.checkPeer(peer, ip);
    const replayKey = replayId !== undefined ? REPLAY_KEY(peerId, replayId) : undefined;
    if (replayKey !== undefined && this.replays.checkAndRemember(replayKey)) {
      throw new AuthError(
        'AUTH_REPLAYED',
        'The signed request is outside its time window or was already received.',
      );
    }
    return { ...this.identity(peer, via, null, null), ...(replayKey ? { replayKey } : {}) };
  }

  /** The request that reserved `replayKey` was not accepted: its sender may send the same message again. */
  releaseReplay(replayKey: string): void {
    this.replays.forget(replayKey);
  }

  /** A failure without a genuine secret: counted, and answered AUTH_LOCKED while the claimed peer is locked. */
  private refuse(keys: { hard: string[]; soft: string }, error: AuthError): never {
    const soft = this.failures.lockedFor([keys.soft]);
    this.failures.record([...keys.hard, keys.soft]);
    if (soft > 0) {
      throw new AuthError('AUTH_LOCKED', 'Too many failed attempts; wait before trying again.', soft);
    }
    throw error;
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
