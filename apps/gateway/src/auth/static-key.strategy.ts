import { Injectable, Logger } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { PEER_ID, type AuthenticatedPeer } from '@switchboard/peer-auth';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Strategy as CustomStrategy } from 'passport-custom';
import type { PeerRequest } from './strategies';

/**
 * Benchmark baseline only (test/bench/run.mjs --auth-compare): one static bearer key for one peer, so the
 * cost of real authentication can be measured against the cheapest possible check. Honoured only when
 * NODE_ENV=test AND BENCH_STATIC_PEER=<peerId>:<key> (the FAULT_FAIL_ORDER_PREFIX precedent); otherwise it
 * is not in PeerAuthChain at all, and validate() never authenticates anything.
 */
export const BENCH_STATIC_PEER_ENV = 'BENCH_STATIC_PEER';

interface StaticPeer {
  id: string;
  digest: Buffer;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function staticPeerFromEnv(env: NodeJS.ProcessEnv): StaticPeer | null {
  const raw = env[BENCH_STATIC_PEER_ENV];
  if (env.NODE_ENV !== 'test' || !raw) return null;
  const at = raw.indexOf(':');
  const id = raw.slice(0, at);
  const key = raw.slice(at + 1);
  // Misconfiguration of a test hook: stop the process, without echoing the key.
  if (at < 0 || !PEER_ID.test(id) || key.length < 16) {
    throw new Error(`${BENCH_STATIC_PEER_ENV} must be <peerId>:<key of at least 16 characters>`);
  }
  return { id, digest: sha256(key) };
}

const STATIC_PEER = staticPeerFromEnv(process.env);

/** True only in a NODE_ENV=test process with BENCH_STATIC_PEER set: then 'sb-static' is tried first. */
export const STATIC_KEY_ENABLED = STATIC_PEER !== null;

const NOT_PRESENTED: [false] = [false];
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

@Injectable()
export class StaticKeyStrategy extends PassportStrategy(CustomStrategy, 'sb-static') {
  constructor() {
    super();
    const logger = new Logger('StaticKeyStrategy');
    if (STATIC_PEER) {
      logger.warn(
        `${BENCH_STATIC_PEER_ENV}: static bearer key accepted for peer ${STATIC_PEER.id} (bench only)`,
      );
    } else if (process.env[BENCH_STATIC_PEER_ENV]) {
      logger.warn(`${BENCH_STATIC_PEER_ENV} is ignored: it is honoured only with NODE_ENV=test`);
    }
  }

  /** Not the static key (or disabled): "not presented", so the real strategies decide. */
  validate(req: PeerRequest): AuthenticatedPeer | [false] {
    if (!STATIC_PEER) return NOT_PRESENTED;
    const header = req.headers.authorization;
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (!token || !timingSafeEqual(sha256(token), STATIC_PEER.digest)) return NOT_PRESENTED;
    return {
      id: STATIC_PEER.id,
      kind: 'website',
      provider: 'generic',
      scopes: ['*'],
      rateLimitPerMinute: null,
      timezone: null,
      testDeliveries: 'mark',
      credentialId: null,
      via: 'bearer',
      expiryWarning: null,
    };
  }
}
