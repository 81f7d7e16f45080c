/**
 * Credential lifecycle, as pure functions over plain records and an explicit `now`.
 *
 * Time intervals are half-open: a credential is usable while `now < expiresAt` and `now < retiresAt`;
 * exactly at `expiresAt` it is expired, exactly at `retiresAt` it is retired.
 */

export interface CredentialRecord {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  /** Set when the credential was superseded by a rotation; usable until then (overlap window). */
  retiresAt: Date | null;
  /** Any non-null value means revoked, effective immediately (even if the timestamp is ahead of `now`). */
  revokedAt: Date | null;
}

export type CredentialState = 'active' | 'retiring' | 'retired' | 'expired' | 'revoked';
export type AuthFailureCode = 'AUTH_REVOKED' | 'AUTH_EXPIRED';

export interface RotationPolicy {
  overlapHours: number;
  lifetimeDays: number;
}

export const DEFAULT_ROTATION_POLICY: Readonly<RotationPolicy> = Object.freeze({
  overlapHours: 24,
  lifetimeDays: 90,
});
export const DEFAULT_WARN_DAYS = 14;
export const MAX_LIVE_CREDENTIALS = 2;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export class RotationError extends Error {
  readonly code = 'ROTATION_NOT_ALLOWED' as const;
  constructor(message: string) {
    super(message);
    this.name = 'RotationError';
  }
}

/** Precedence: revoked, then retired, then expired; a live one is 'retiring' if a retiresAt is set. */
export function credentialState(c: CredentialRecord, now: Date): CredentialState {
  const t = now.getTime();
  if (c.revokedAt !== null) return 'revoked';
  if (c.retiresAt !== null && t >= c.retiresAt.getTime()) return 'retired';
  if (t >= c.expiresAt.getTime()) return 'expired';
  if (c.retiresAt !== null) return 'retiring';
  return 'active';
}

/** Usable for authentication right now ('active' or 'retiring'). */
export function isLive(c: CredentialRecord, now: Date): boolean {
  const s = credentialState(c, now);
  return s === 'active' || s === 'retiring';
}

/**
 * Stable error code for a credential that matched but may not be used, or null when usable.
 * Retired maps to AUTH_EXPIRED: the peer's old secret simply aged out after a rotation, which from
 * the peer's point of view is the same remedy as expiry (use the newer credential / rotate).
 */
export function authFailureCode(c: CredentialRecord, now: Date): AuthFailureCode | null {
  switch (credentialState(c, now)) {
    case 'revoked':
      return 'AUTH_REVOKED';
    case 'retired':
    case 'expired':
      return 'AUTH_EXPIRED';
    default:
      return null;
  }
}

export interface RotationPlan {
  newCredential: { expiresAt: Date };
  /** Only credentials whose retiresAt changes; apply as `UPDATE ... SET retires_at = $2 WHERE id = $1`. */
  retire: Array<{ id: string; retiresAt: Date }>;
}

/**
 * Plans a rotation for one peer, given all its credentials. Every live credential gets
 * `retiresAt = now + overlap` (an earlier retiresAt is never extended); if the new credential plus the
 * remaining live ones would exceed two, the oldest live ones are retired now (`retiresAt = now`).
 * Throws RotationError (ROTATION_NOT_ALLOWED) when no credential is live: rotation is an authenticated
 * call made with a current credential, so a peer with none left must be re-provisioned by an operator.
 */
export function planRotation(
  existing: readonly CredentialRecord[],
  now: Date,
  policy: Partial<RotationPolicy> = {},
  /**
   * The credential the peer rotated with: it is retired last, only after the overlap. A client killed before it
   * saved the new token still holds this one, so it must not be the one retired at once (issued-but-lost
   * credentials from earlier attempts go first).
   */
  keepId?: string,
): RotationPlan {
  const { overlapHours, lifetimeDays } = { ...DEFAULT_ROTATION_POLICY, ...policy };
  if (!Number.isFinite(overlapHours) || overlapHours < 0) throw new RangeError('overlapHours must be >= 0');
  if (!Number.isFinite(lifetimeDays) || lifetimeDays <= 0) throw new RangeError('lifetimeDays must be > 0');

  const t = now.getTime();
  const live = existing
    .filter((c) => isLive(c, now))
    .sort(
      (a, b) =>
        Number(a.id === keepId) - Number(b.id === keepId) ||
        a.createdAt.getTime() - b.createdAt.getTime() ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  if (live.length === 0) {
    throw new RotationError('No usable credential to rotate from');
  }

  const overlapEnd = t + overlapHours * HOUR_MS;
  const keep = MAX_LIVE_CREDENTIALS - 1; // slots left for existing credentials next to the new one
  const retireNowCount = Math.max(0, live.length - keep);

  const retire: RotationPlan['retire'] = [];
  live.forEach((c, i) => {
    const current = c.retiresAt?.getTime() ?? Infinity;
    const target = i < retireNowCount ? t : Math.min(overlapEnd, current);
    if (target !== current) retire.push({ id: c.id, retiresAt: new Date(target) });
  });

  return { newCredential: { expiresAt: new Date(t + lifetimeDays * DAY_MS) }, retire };
}

export interface ExpiryWarning {
  /** Whole days left, rounded up (1 ms left → 1); never 0 for a live credential. */
  daysLeft: number;
  expiresAt: Date;
}

/**
 * Warning for a live credential whose expiresAt is at most `warnDays` away (inclusive: exactly
 * `warnDays` left warns), else null. Expired/retired/revoked credentials get no warning — they fail.
 */
export function expiryWarning(
  c: CredentialRecord,
  now: Date,
  warnDays: number = DEFAULT_WARN_DAYS,
): ExpiryWarning | null {
  if (!isLive(c, now)) return null;
  const msLeft = c.expiresAt.getTime() - now.getTime();
  if (msLeft > warnDays * DAY_MS) return null;
  return { daysLeft: Math.ceil(msLeft / DAY_MS), expiresAt: new Date(c.expiresAt.getTime()) };
}

/**
 * Response header the gateway sets on authenticated peer calls while a warning is due
 * (`Sunset`-like, RFC 8594 in spirit): `X-Credential-Expires: 2025-03-01T00:00:00.000Z; days-left=5`.
 */
export function expiryHeader(w: ExpiryWarning): { name: 'X-Credential-Expires'; value: string } {
  return { name: 'X-Credential-Expires', value: `${w.expiresAt.toISOString()}; days-left=${w.daysLeft}` };
}
