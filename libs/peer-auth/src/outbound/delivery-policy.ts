/**
 * The rules of outbound delivery as pure functions (clock and randomness passed in), so the 24-hour logic is
 * tested by moving a date, not by waiting: what an answer means, when to try again, when an endpoint's breaker
 * opens and when the endpoint is paused.
 */
export interface DeliveryPolicy {
  retryBaseMs: number;
  retryMaxMs: number;
  retryForHours: number;
  breakerFailures: number;
  breakerCooldownMs: number;
  pauseAfterHours: number;
}

/** Stored in outbound_deliveries.last_error_code and shown to operators (README "Outbound webhooks"). */
export const DeliveryErrorCode = {
  /** The site answered 4xx other than 408/429: it refuses this message; a dead letter at once. */
  REJECTED: 'OUTBOUND_REJECTED',
  /** 5xx, 408 or 429: retried. */
  HTTP_ERROR: 'OUTBOUND_HTTP_ERROR',
  TIMEOUT: 'OUTBOUND_TIMEOUT',
  UNREACHABLE: 'OUTBOUND_UNREACHABLE',
  /** Still failing retryForHours after the first attempt: a dead letter. */
  RETRIES_EXHAUSTED: 'OUTBOUND_RETRIES_EXHAUSTED',
  /** The endpoint's secret does not open under the keyring (keys rotated away): retried until fixed. */
  SECRET_UNAVAILABLE: 'OUTBOUND_SECRET_UNAVAILABLE',
} as const;
export type DeliveryErrorCode = (typeof DeliveryErrorCode)[keyof typeof DeliveryErrorCode];

/** What came back from one attempt: an HTTP status, or no answer with a code. */
export interface AttemptResult {
  httpStatus: number | null;
  errorCode?: string | null;
  /** The Retry-After header, as sent. */
  retryAfter?: string | null;
}

export type AttemptClass = 'delivered' | 'retry' | 'permanent';

/** The site's own answer decides: 2xx delivered; 4xx other than 408/429 permanent; the rest retried. */
export function classify(r: AttemptResult): AttemptClass {
  const s = r.httpStatus;
  if (s === null) return 'retry';
  if (s >= 200 && s < 300) return 'delivered';
  if (s >= 400 && s < 500 && s !== 408 && s !== 429) return 'permanent';
  return 'retry';
}

/** Retry-After in ms from now (delta-seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/**
 * Exponential backoff with full jitter: a random wait in [0, min(max, base * 2^(attempt-1))] (AWS's "full jitter",
 * so endpoints coming back are not hit by every replica at once), but never shorter than the site's Retry-After.
 */
export function backoffMs(
  attempt: number,
  p: DeliveryPolicy,
  random: () => number,
  retryAfter: number | null,
): number {
  const cap = Math.min(p.retryMaxMs, p.retryBaseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  const jittered = Math.floor(random() * cap);
  return Math.max(jittered, retryAfter ?? 0);
}

export type DeliveryNext =
  | { status: 'delivered' }
  | { status: 'pending'; nextAttemptAt: Date; errorCode: string }
  | { status: 'failed'; errorCode: string };

/** The delivery's state after attempt number `attempt` (1-based) whose first attempt was at `firstAttemptAt`. */
export function nextDeliveryState(
  r: AttemptResult,
  attempt: number,
  firstAttemptAt: Date,
  now: Date,
  p: DeliveryPolicy,
  random: () => number = Math.random,
): DeliveryNext {
  const kind = classify(r);
  if (kind === 'delivered') return { status: 'delivered' };
  if (kind === 'permanent') return { status: 'failed', errorCode: DeliveryErrorCode.REJECTED };
  const errorCode = r.errorCode ?? DeliveryErrorCode.HTTP_ERROR;
  const deadline = firstAttemptAt.getTime() + p.retryForHours * 3_600_000;
  const at = now.getTime() + backoffMs(attempt, p, random, retryAfterMs(r.retryAfter, now));
  if (at > deadline) return { status: 'failed', errorCode: DeliveryErrorCode.RETRIES_EXHAUSTED };
  return { status: 'pending', nextAttemptAt: new Date(at), errorCode };
}

export interface EndpointHealth {
  state: 'active' | 'paused';
  consecutiveFailures: number;
  failingSince: Date | null;
  breakerOpenUntil: Date | null;
  pausedAt: Date | null;
}

/**
 * An endpoint's health after a round of attempts: any success closes the breaker and clears the failure run;
 * failures (no answer, 5xx, 408, 429 — not a 4xx refusal, which proves the endpoint works) count up, open the
 * breaker for breakerCooldownMs at breakerFailures in a row, and pause the endpoint once the run is
 * pauseAfterHours old. A paused endpoint stays paused until an operator updates it.
 */
export function nextEndpointHealth(
  prev: EndpointHealth,
  results: readonly AttemptResult[],
  now: Date,
  p: DeliveryPolicy,
): EndpointHealth {
  if (results.some((r) => classify(r) !== 'retry')) {
    return { ...prev, consecutiveFailures: 0, failingSince: null, breakerOpenUntil: null };
  }
  if (results.length === 0) return prev;
  const consecutiveFailures = prev.consecutiveFailures + results.length;
  const failingSince = prev.failingSince ?? now;
  const breakerOpenUntil =
    consecutiveFailures >= p.breakerFailures
      ? new Date(now.getTime() + p.breakerCooldownMs)
      : prev.breakerOpenUntil;
  const pause =
    prev.state === 'active' && now.getTime() - failingSince.getTime() >= p.pauseAfterHours * 3_600_000;
  return {
    state: pause ? 'paused' : prev.state,
    consecutiveFailures,
    failingSince,
    breakerOpenUntil,
    pausedAt: pause ? now : prev.pausedAt,
  };
}

/** Half-open: after the cooldown, an endpoint whose breaker was opened gets one probe delivery at a time. */
export const isHalfOpen = (h: Pick<EndpointHealth, 'breakerOpenUntil'>, now: Date): boolean =>
  h.breakerOpenUntil !== null && h.breakerOpenUntil.getTime() <= now.getTime();
