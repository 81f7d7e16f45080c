// Pure verdicts of test/faults/run.mjs, kept apart so that they can be checked without servers:
// node --test test/faults/verdicts.test.mjs
/** The answers a request in flight at the gateway's SIGTERM may get: accepted, or refused in the contract. */
export const DRAIN_ANSWERS = ['202', '503 SHUTTING_DOWN'];

/**
 * Scenario d. A graceful stop drains: every request in flight at SIGTERM is answered 202 or 503 SHUTTING_DOWN
 * (no reset, no timeout, no other code), at least one of them is accepted (the drain did work rather than
 * refuse everything), and the process exits with code 0 after its shutdown hooks. Killed by the signal itself
 * (no drain) it has no exit code. `inFlightEndedAs`: label -> count, labels as attemptOnce() makes them.
 * Returns what is wrong; empty when the shutdown was graceful.
 */
export function gatewayShutdownProblems({ exit, inFlightEndedAs }) {
  const problems = [];
  if (exit?.code !== 0) problems.push(`exit ${JSON.stringify(exit)}, not code 0 (abrupt, not graceful)`);
  const total = Object.values(inFlightEndedAs).reduce((a, b) => a + b, 0);
  if (total === 0) problems.push('no request in flight at SIGTERM: the drain was not exercised');
  else if (!(inFlightEndedAs['202'] > 0)) problems.push('no request in flight at SIGTERM was accepted');
  for (const [label, n] of Object.entries(inFlightEndedAs))
    if (!DRAIN_ANSWERS.includes(label)) problems.push(`${n} in flight at SIGTERM ended as ${label}`);
  return problems;
}
