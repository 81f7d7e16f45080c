export interface LockoutPolicy {
  /** Failures of one claimed peer id (per source: `pair:` keys; from anywhere: the soft `peer:` key) that lock it. */
  peerMaxFailures: number;
  /** Failures from one client address within the window that lock it (higher: NAT and proxies share one). */
  ipMaxFailures: number;
  windowSeconds: number;
  /** First lockout; each further lockout of the same key doubles it, up to maxSeconds. */
  baseSeconds: number;
  maxSeconds: number;
}

interface Entry {
  failures: number;
  windowStart: number;
  lockedUntil: number;
  lockouts: number;
}

/** Beyond this many tracked keys the oldest are dropped, so a key-spraying client cannot exhaust memory. */
const MAX_KEYS = 100_000;

/**
 * Failed authentications per key (`ip:<address>`, `pair:<claimed id>@<address>`, `peer:<claimed id>`; see
 * lockoutKeys for which of them may refuse a genuine credential), with lockout and exponential back-off.
 * Unknown and known peer ids are tracked alike, so the lockout itself reveals nothing. Per process: each gateway
 * replica counts on its own (documented).
 */
export class FailureTracker {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly policy: LockoutPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the longest lock among `keys` ends, or 0 when none is locked. */
  lockedFor(keys: readonly string[]): number {
    const t = this.now();
    let until = 0;
    for (const k of keys) {
      const e = this.entries.get(k);
      if (e && e.lockedUntil > t) until = Math.max(until, e.lockedUntil);
    }
    return until ? Math.ceil((until - t) / 1000) : 0;
  }

  record(keys: readonly string[]): void {
    const t = this.now();
    for (const k of keys) {
      let e = this.entries.get(k);
      if (!e) {
        if (this.entries.size >= MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
        e = { failures: 0, windowStart: t, lockedUntil: 0, lockouts: 0 };
        this.entries.set(k, e);
      }
      const windowMs = this.policy.windowSeconds * 1000;
      if (t - e.windowStart > windowMs) {
        // A whole quiet window forgives earlier lockouts too.
        if (e.lockedUntil + windowMs < t) e.lockouts = 0;
        e.failures = 0;
        e.windowStart = t;
      }
      e.failures += 1;
      const max = k.startsWith('ip:') ? this.policy.ipMaxFailures : this.policy.peerMaxFailures;
      if (e.failures >= max && e.lockedUntil <= t) {
        const seconds = Math.min(this.policy.maxSeconds, this.policy.baseSeconds * 2 ** e.lockouts);
        e.lockouts += 1;
        e.lockedUntil = t + seconds * 1000;
        e.failures = 0;
        e.windowStart = t;
      }
    }
  }
}
