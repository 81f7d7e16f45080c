import { randomInt } from 'node:crypto';
import type { OtpErrorCode } from '@switchboard/contracts';

export const OTP_PURPOSES = ['login', 'delivery', 'confirm'] as const;
export type OtpPurpose = (typeof OTP_PURPOSES)[number];
export type OtpState = 'active' | 'verified' | 'locked';

/** Six digits, uniformly drawn from a CSPRNG (leading zeros kept). */
export function newOtpCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** What the hash covers: the code bound to its own id, so equal codes never have equal hashes. */
export const otpHashInput = (otpId: string, code: string): string => `otp:${otpId}:${code}`;
/** The sealed copy's AAD: a token copied to another row does not open. */
export const otpSealContext = (otpId: string): string => `otp:${otpId}:code`;

export interface OtpSnapshot {
  state: OtpState;
  attempts: number;
  maxAttempts: number;
  expiresAt: Date;
  purpose: OtpPurpose;
  dealId: string | null;
}

export interface VerifyAttempt {
  now: Date;
  /** The code matched the stored hash. */
  codeMatches: boolean;
  /** The deal the caller confirms; a delivery code confirms only its own deal. */
  dealId?: string | null;
}

export type VerifyJudgement =
  | { ok: true; next: { state: 'verified'; attempts: number } }
  | {
      ok: false;
      error: Exclude<OtpErrorCode, 'OTP_RATE_LIMITED' | 'NO_MESSAGE_CHANNEL'>;
      /** The state to store: unchanged, or one more attempt, or locked by this attempt. */
      next: { state: OtpState; attempts: number };
      attemptsLeft: number;
    };

/**
 * The verify state machine. Order matters: a used or locked code says so even when expired (the caller learns
 * the most useful thing); a wrong code, or the right code for another deal, costs one attempt; the attempt that
 * reaches maxAttempts locks the code, so even the right code is refused afterwards.
 */
export function judgeVerify(otp: OtpSnapshot, attempt: VerifyAttempt): VerifyJudgement {
  const unchanged = { state: otp.state, attempts: otp.attempts };
  const left = Math.max(0, otp.maxAttempts - otp.attempts);
  if (otp.state === 'verified') return { ok: false, error: 'OTP_USED', next: unchanged, attemptsLeft: left };
  if (otp.state === 'locked' || otp.attempts >= otp.maxAttempts)
    return { ok: false, error: 'OTP_LOCKED', next: { ...unchanged, state: 'locked' }, attemptsLeft: 0 };
  if (attempt.now.getTime() >= otp.expiresAt.getTime())
    return { ok: false, error: 'OTP_EXPIRED', next: unchanged, attemptsLeft: left };
  const dealOk = otp.purpose !== 'delivery' || (attempt.dealId ?? null) === otp.dealId;
  if (attempt.codeMatches && dealOk) return { ok: true, next: { state: 'verified', attempts: otp.attempts } };
  const attempts = otp.attempts + 1;
  const state: OtpState = attempts >= otp.maxAttempts ? 'locked' : 'active';
  return {
    ok: false,
    error: 'OTP_INVALID',
    next: { state, attempts },
    attemptsLeft: otp.maxAttempts - attempts,
  };
}

export interface RateWindow {
  /** The limit's name for the message: phone, peer, address. */
  name: string;
  limit: number;
  windowSeconds: number;
  /** Codes issued in the window so far, and the oldest of them. */
  count: number;
  oldest: Date | null;
}

/** Seconds until the tightest exceeded window lets one more code through; 0 when none is exceeded. */
export function rateLimitWait(
  windows: readonly RateWindow[],
  now: Date,
): { wait: number; name: string | null } {
  let worst = { wait: 0, name: null as string | null };
  for (const w of windows) {
    if (w.count < w.limit) continue;
    const frees = (w.oldest?.getTime() ?? now.getTime()) + w.windowSeconds * 1000;
    const wait = Math.max(1, Math.ceil((frees - now.getTime()) / 1000));
    if (wait > worst.wait) worst = { wait, name: w.name };
  }
  return worst;
}
