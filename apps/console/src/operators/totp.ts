import { Secret, TOTP } from 'otpauth';
import { toDataURL } from 'qrcode';
import { randomBytes } from 'node:crypto';

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
const ISSUER = 'Switchboard';

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpOf(secretBase32: string, label: string): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The `otpauth://totp/...` URI an authenticator app scans, and the same as a PNG data URL QR code. */
export async function totpEnrolment(
  secretBase32: string,
  label: string,
): Promise<{ secret: string; uri: string; qrDataUrl: string }> {
  const uri = totpOf(secretBase32, label).toString();
  return { secret: secretBase32, uri, qrDataUrl: await toDataURL(uri, { errorCorrectionLevel: 'M' }) };
}

const PERIOD_MS = 30_000;

/**
 * The time step of `code` when it is the current code or the one before or after it (clock drift of up to
 * 30 s); null otherwise. The caller refuses a step already used (RFC 6238 §5.2: one code, one sign-in).
 */
export function totpStep(secretBase32: string, code: string, at: number = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secretBase32, 'x').validate({ token: code, timestamp: at, window: 1 });
  return delta === null ? null : Math.floor(at / PERIOD_MS) + delta;
}

/** Whether `code` is valid now (the current code or a neighbour), used or not. */
export function verifyTotp(secretBase32: string, code: string, at: number = Date.now()): boolean {
  return totpStep(secretBase32, code, at) !== null;
}

/** The current code (tests, and the CLI's self-check). */
export function totpCode(secretBase32: string, at: number = Date.now()): string {
  return totpOf(secretBase32, 'x').generate({ timestamp: at });
}

/** Ten single-use recovery codes, `xxxx-xxxx-xxxx` in base32 (60 bits each), shown once and stored hashed. */
export function newRecoveryCodes(count = 10): string[] {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(12);
    const chars = [...bytes].map((b) => alphabet[b % 32]).join('');
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
  });
}

export const normalizeRecoveryCode = (code: string) => code.trim().toLowerCase().replace(/\s+/g, '');
