/** The time the console's rules see (due, overdue, claim times): injected so tests can set it. */
export interface Clock {
  now(): Date;
}
export const CLOCK = Symbol('CLOCK');
export const systemClock: Clock = { now: () => new Date() };
