import { Secret, TOTP } from 'otpauth';

const PERIOD_MS = 30_000;
const lastStep = new Map<string, number>();

const codeAt = (secret: string, at: number) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp: at,
  });

/** The current code (enrolment confirmation, which does not use up a step). */
export const totpNow = (secret: string): string => codeAt(secret, Date.now());

/**
 * A code for a sign-in: the console accepts each time step once (RFC 6238 §5.2), so a second sign-in within the
 * same 30 s waits for the next step, as a person would wait for the next code in their app.
 */
export async function totpForSignIn(secret: string): Promise<string> {
  let step = Math.floor(Date.now() / PERIOD_MS);
  const last = lastStep.get(secret);
  if (last !== undefined && step <= last) {
    await new Promise((r) => setTimeout(r, (last + 1) * PERIOD_MS - Date.now() + 200));
    step = Math.floor(Date.now() / PERIOD_MS);
  }
  lastStep.set(secret, step);
  return codeAt(secret, step * PERIOD_MS + 1_000);
}
