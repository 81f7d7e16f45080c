/**
 * Signed-request ids reserved by a request in flight or accepted (a refused request's id is forgotten again), remembered for longer than the timestamp tolerance: a replay inside
 * the tolerance is caught here, one outside it fails the timestamp check. Per process (documented).
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 200_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when `key` was seen before; otherwise remembers it and returns false. */
  checkAndRemember(key: string): boolean {
    const t = this.now();
    const until = this.seen.get(key);
    if (until !== undefined && until > t) return true;
    if (this.seen.size >= this.maxEntries) this.prune(t);
    this.seen.set(key, t + this.ttlMs);
    return false;
  }

  /** The request that reserved `key` was refused after all (quota, broker): its id may be used again. */
  forget(key: string): void {
    this.seen.delete(key);
  }

  private prune(t: number): void {
    for (const [k, until] of this.seen) if (until <= t) this.seen.delete(k);
    // Still full of live ids: drop the oldest rather than grow without bound.
    while (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
  }
}
