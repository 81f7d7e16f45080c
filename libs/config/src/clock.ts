/** The time an app's rules see; apps inject it (their CLOCK token) so tests can move it. */
export interface AppClock {
  now(): Date;
}

/**
 * The system clock, moved by SWITCHBOARD_TEST_CLOCK_OFFSET_MS milliseconds when NODE_ENV=test (inert otherwise):
 * how an end-to-end test runs an app "a year later" (loyalty spend ageing out, a manual discount expiring)
 * without waiting for it.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env): AppClock {
  const raw = env.NODE_ENV === 'test' ? env.SWITCHBOARD_TEST_CLOCK_OFFSET_MS : undefined;
  const offset = raw && /^-?\d+$/.test(raw) ? Number(raw) : 0;
  return offset === 0 ? { now: () => new Date() } : { now: () => new Date(Date.now() + offset) };
}
