/**
 * Loyalty: the spend of a contact's paid deals over a rolling window buys a tier (a discount percent); a
 * manager's manual discount, while it has not expired, overrides the tier. Pure rules: the repository reads
 * the spend and the stored state, these decide, the repository writes what changed.
 */
export interface LoyaltyTier {
  name: string;
  /** The spend (in LoyaltySettings.currency) from which the tier applies. */
  minSpend: number;
  percent: number;
}

export interface LoyaltySettings {
  /** Ascending by minSpend (checked at start by loyaltyTierProblems). */
  tiers: LoyaltyTier[];
  /** Only deals in this currency count towards the spend. */
  currency: string;
  /** The rolling window of paid deals, in days (365). */
  windowDays: number;
}

export type DiscountSource = 'tier' | 'manual';

export interface ManualDiscount {
  percent: number;
  expiresAt: Date | null;
}

export interface EffectiveDiscount {
  /** 0 when there is none. */
  percent: number;
  source: DiscountSource | null;
  /** When a manual discount ends (null: a tier's, or a manual one without expiry). */
  expiresAt: Date | null;
}

const DAY_MS = 86_400_000;

/** Everything wrong with a tier list, for config validation at start (empty: valid). */
export function loyaltyTierProblems(value: unknown): string[] {
  if (!Array.isArray(value)) return ['tiers must be an array of {name, minSpend, percent}'];
  const problems: string[] = [];
  const names = new Set<string>();
  value.forEach((t: unknown, i) => {
    const at = `tiers[${i}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) {
      problems.push(`${at} must be an object {name, minSpend, percent}`);
      return;
    }
    const { name, minSpend, percent, ...rest } = t as Record<string, unknown>;
    if (Object.keys(rest).length) problems.push(`${at} has unknown keys: ${Object.keys(rest).join(', ')}`);
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,50}$/.test(name))
      problems.push(`${at}.name must be 1-50 letters, digits, _ or -`);
    else if (names.has(name)) problems.push(`${at}.name "${name}" is used twice`);
    else names.add(name);
    if (typeof minSpend !== 'number' || !Number.isFinite(minSpend) || minSpend < 0 || minSpend > 1e15)
      problems.push(`${at}.minSpend must be a number 0-1e15`);
    if (!isPercent(percent)) problems.push(`${at}.percent must be a number 0-100 with at most 2 decimals`);
    const prev = i > 0 ? (value[i - 1] as Record<string, unknown> | null) : null;
    if (prev && typeof prev.minSpend === 'number' && typeof minSpend === 'number') {
      if (minSpend <= prev.minSpend) problems.push(`${at}.minSpend must be greater than the tier before it`);
      if (typeof prev.percent === 'number' && typeof percent === 'number' && percent < prev.percent)
        problems.push(`${at}.percent must not be lower than the tier before it`);
    }
  });
  return problems;
}

/** A discount percent: 0-100, at most two decimals (the column is numeric(5,2)). */
export function isPercent(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100 && Math.round(v * 100) === v * 100;
}

/** The highest tier the spend reaches; null below the first. */
export function tierFor(spend: number, tiers: readonly LoyaltyTier[]): LoyaltyTier | null {
  let best: LoyaltyTier | null = null;
  for (const t of tiers) if (spend >= t.minSpend && (!best || t.minSpend > best.minSpend)) best = t;
  return best;
}

/** The first moment whose payments still count at `now`. */
export const windowStart = (now: Date, windowDays: number): Date =>
  new Date(now.getTime() - windowDays * DAY_MS);

/** Whether a manual discount still applies at `now` (it ends at expiresAt, exclusive). */
export const manualActive = (m: ManualDiscount | null, now: Date): m is ManualDiscount =>
  m !== null && (m.expiresAt === null || m.expiresAt.getTime() > now.getTime());

/** The discount the customer gets: an unexpired manual one, else the tier's, else none. */
export function effectiveDiscount(
  tier: LoyaltyTier | null,
  manual: ManualDiscount | null,
  now: Date,
): EffectiveDiscount {
  if (manualActive(manual, now))
    return { percent: manual.percent, source: 'manual', expiresAt: manual.expiresAt };
  if (tier && tier.percent > 0) return { percent: tier.percent, source: 'tier', expiresAt: null };
  return { percent: 0, source: null, expiresAt: null };
}

/** A change the site must hear about: another percent or another source (same percent, now manual). */
export const discountDiffers = (
  a: Pick<EffectiveDiscount, 'percent' | 'source'>,
  b: Pick<EffectiveDiscount, 'percent' | 'source'>,
): boolean => a.percent !== b.percent || a.source !== b.source;
