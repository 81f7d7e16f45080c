/** The time delivery rules see (backoff, breaker, 24-hour pause): injected so tests can move it. */
export interface Clock {
  now(): Date;
}
export const CLOCK = Symbol('CLOCK');
export const systemClock: Clock = { now: () => new Date() };
