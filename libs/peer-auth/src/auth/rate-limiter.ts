interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Requests per minute per peer as a token bucket: a full minute's quota may burst, then it refills evenly.
 * Per process (each gateway replica enforces the quota on its own share of traffic; documented).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** 0 when allowed (and counted), else seconds until one request would be allowed. */
  take(key: string, perMinute: number): number {
    const t = this.now();
    const rate = perMinute / 60_000;
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: perMinute, at: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * rate);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / rate / 1000);
  }
}
