import { judgeVerify, newOtpCode, rateLimitWait, type OtpSnapshot } from './otp.rules';

const now = new Date('2026-12-07T10:00:00Z');
const otp = (over: Partial<OtpSnapshot> = {}): OtpSnapshot => ({
  state: 'active',
  attempts: 0,
  maxAttempts: 5,
  expiresAt: new Date(now.getTime() + 60_000),
  purpose: 'login',
  dealId: null,
  ...over,
});

describe('newOtpCode', () => {
  it('is six digits, leading zeros kept, and varies', () => {
    const codes = new Set(Array.from({ length: 200 }, () => newOtpCode()));
    for (const c of codes) expect(c).toMatch(/^\d{6}$/);
    expect(codes.size).toBeGreaterThan(190);
  });
});

describe('judgeVerify', () => {
  it('accepts the right code once: verified', () => {
    expect(judgeVerify(otp(), { now, codeMatches: true })).toEqual({
      ok: true,
      next: { state: 'verified', attempts: 0 },
    });
  });

  it('refuses a used code even when the code is right', () => {
    const j = judgeVerify(otp({ state: 'verified' }), { now, codeMatches: true });
    expect(j).toMatchObject({ ok: false, error: 'OTP_USED' });
  });

  it('counts wrong codes and locks on the fifth; then even the right code is OTP_LOCKED', () => {
    let snap = otp();
    const errors: string[] = [];
    for (let i = 0; i < 5; i++) {
      const j = judgeVerify(snap, { now, codeMatches: false });
      if (j.ok) throw new Error('accepted a wrong code');
      errors.push(j.error);
      snap = { ...snap, ...j.next };
    }
    expect(errors).toEqual(Array(5).fill('OTP_INVALID'));
    expect(snap).toMatchObject({ state: 'locked', attempts: 5 });
    expect(judgeVerify(snap, { now, codeMatches: true })).toMatchObject({ ok: false, error: 'OTP_LOCKED' });
  });

  it('refuses an expired code without spending an attempt', () => {
    const j = judgeVerify(otp({ expiresAt: now }), { now, codeMatches: true });
    expect(j).toMatchObject({ ok: false, error: 'OTP_EXPIRED', next: { state: 'active', attempts: 0 } });
  });

  it('binds a delivery code to its deal: the right code for another deal is a wrong attempt', () => {
    const d = otp({ purpose: 'delivery', dealId: 'deal-x' });
    expect(judgeVerify(d, { now, codeMatches: true, dealId: 'deal-y' })).toMatchObject({
      ok: false,
      error: 'OTP_INVALID',
      next: { attempts: 1 },
    });
    expect(judgeVerify(d, { now, codeMatches: true })).toMatchObject({ ok: false, error: 'OTP_INVALID' });
    expect(judgeVerify(d, { now, codeMatches: true, dealId: 'deal-x' }).ok).toBe(true);
  });
});

describe('rateLimitWait', () => {
  it('is 0 under every limit, else the seconds until the tightest window frees one slot', () => {
    const w = (count: number, oldestAgoS: number, windowSeconds = 600) => ({
      name: 'phone',
      limit: 3,
      windowSeconds,
      count,
      oldest: new Date(now.getTime() - oldestAgoS * 1000),
    });
    expect(rateLimitWait([w(2, 100)], now)).toEqual({ wait: 0, name: null });
    expect(rateLimitWait([w(3, 100)], now)).toEqual({ wait: 500, name: 'phone' });
    expect(rateLimitWait([w(3, 100), { ...w(3, 10, 3600), name: 'peer' }], now)).toEqual({
      wait: 3590,
      name: 'peer',
    });
  });
});
