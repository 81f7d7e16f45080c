import {
  discountDiffers,
  effectiveDiscount,
  loyaltyTierProblems,
  manualActive,
  tierFor,
  windowStart,
} from './loyalty';

const TIERS = [
  { name: 'silver', minSpend: 10_000, percent: 3 },
  { name: 'gold', minSpend: 50_000, percent: 5 },
  { name: 'platinum', minSpend: 150_000, percent: 10 },
];
const NOW = new Date('2026-12-07T10:00:00Z');

describe('loyalty rules', () => {
  it('picks the highest tier the spend reaches, none below the first threshold', () => {
    expect(tierFor(0, TIERS)).toBeNull();
    expect(tierFor(9_999.99, TIERS)).toBeNull();
    expect(tierFor(10_000, TIERS)?.name).toBe('silver');
    expect(tierFor(49_999, TIERS)?.name).toBe('silver');
    expect(tierFor(50_000, TIERS)?.name).toBe('gold');
    expect(tierFor(1e9, TIERS)?.name).toBe('platinum');
    expect(tierFor(1e9, [])).toBeNull();
  });

  it('an unexpired manual discount overrides the tier; an expired one gives way to it', () => {
    const gold = TIERS[1];
    expect(effectiveDiscount(gold, null, NOW)).toEqual({ percent: 5, source: 'tier', expiresAt: null });
    const until = new Date('2026-12-08T00:00:00Z');
    expect(effectiveDiscount(gold, { percent: 15, expiresAt: until }, NOW)).toEqual({
      percent: 15,
      source: 'manual',
      expiresAt: until,
    });
    // Expiry is exclusive: at that very moment the tier applies again.
    expect(effectiveDiscount(gold, { percent: 15, expiresAt: until }, until)).toMatchObject({
      source: 'tier',
    });
    expect(effectiveDiscount(null, { percent: 2, expiresAt: null }, NOW)).toMatchObject({ percent: 2 });
    // A manual 0 % is a decision too (no discount for this customer), not "none".
    expect(effectiveDiscount(gold, { percent: 0, expiresAt: null }, NOW)).toEqual({
      percent: 0,
      source: 'manual',
      expiresAt: null,
    });
    expect(effectiveDiscount(null, null, NOW)).toEqual({ percent: 0, source: null, expiresAt: null });
    expect(manualActive({ percent: 1, expiresAt: new Date(NOW.getTime() - 1) }, NOW)).toBe(false);
  });

  it('a change is another percent or another source', () => {
    expect(discountDiffers({ percent: 5, source: 'tier' }, { percent: 5, source: 'tier' })).toBe(false);
    expect(discountDiffers({ percent: 5, source: 'tier' }, { percent: 5, source: 'manual' })).toBe(true);
    expect(discountDiffers({ percent: 5, source: 'tier' }, { percent: 3, source: 'tier' })).toBe(true);
    expect(discountDiffers({ percent: 0, source: null }, { percent: 0, source: null })).toBe(false);
  });

  it('the window is the last windowDays days', () => {
    expect(windowStart(NOW, 365).toISOString()).toBe('2025-12-07T10:00:00.000Z');
  });

  it('validates a tier list, naming every problem', () => {
    expect(loyaltyTierProblems(TIERS)).toEqual([]);
    expect(loyaltyTierProblems([])).toEqual([]);
    expect(loyaltyTierProblems({})).toEqual(['tiers must be an array of {name, minSpend, percent}']);
    expect(
      loyaltyTierProblems([
        { name: 'a', minSpend: 100, percent: 5 },
        { name: 'a', minSpend: 50, percent: 3, extra: 1 },
        { name: 'bad name', minSpend: -1, percent: 101 },
        { name: 'c', minSpend: 10, percent: 1.234 },
      ]),
    ).toEqual([
      'tiers[1] has unknown keys: extra',
      'tiers[1].name "a" is used twice',
      'tiers[1].minSpend must be greater than the tier before it',
      'tiers[1].percent must not be lower than the tier before it',
      'tiers[2].name must be 1-50 letters, digits, _ or -',
      'tiers[2].minSpend must be a number 0-1e15',
      'tiers[2].percent must be a number 0-100 with at most 2 decimals',
      'tiers[2].minSpend must be greater than the tier before it',
      'tiers[3].percent must be a number 0-100 with at most 2 decimals',
      'tiers[3].percent must not be lower than the tier before it',
    ]);
  });
});
