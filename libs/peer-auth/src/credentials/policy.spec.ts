import {
  type CredentialRecord,
  RotationError,
  authFailureCode,
  credentialState,
  expiryHeader,
  expiryWarning,
  isLive,
  planRotation,
} from './policy';

const H = 3_600_000;
const D = 24 * H;
const T0 = new Date('2025-01-01T00:00:00.000Z').getTime();
const at = (ms: number): Date => new Date(T0 + ms);

const cred = (over: Partial<CredentialRecord> = {}): CredentialRecord => ({
  id: 'c1',
  createdAt: at(0),
  expiresAt: at(90 * D),
  retiresAt: null,
  revokedAt: null,
  ...over,
});

describe('credentialState / authFailureCode', () => {
  it('active until exactly expiresAt, then expired', () => {
    const c = cred();
    expect(credentialState(c, at(0))).toBe('active');
    expect(credentialState(c, at(90 * D - 1))).toBe('active');
    expect(authFailureCode(c, at(90 * D - 1))).toBeNull();
    expect(credentialState(c, at(90 * D))).toBe('expired');
    expect(authFailureCode(c, at(90 * D))).toBe('AUTH_EXPIRED');
  });

  it('retiring until exactly retiresAt, then retired (AUTH_EXPIRED)', () => {
    const c = cred({ retiresAt: at(10 * D) });
    expect(credentialState(c, at(10 * D - 1))).toBe('retiring');
    expect(authFailureCode(c, at(10 * D - 1))).toBeNull();
    expect(isLive(c, at(10 * D - 1))).toBe(true);
    expect(credentialState(c, at(10 * D))).toBe('retired');
    expect(authFailureCode(c, at(10 * D))).toBe('AUTH_EXPIRED');
    expect(isLive(c, at(10 * D))).toBe(false);
  });

  it('retired wins over expired; expired wins over retiring', () => {
    expect(credentialState(cred({ retiresAt: at(5 * D), expiresAt: at(5 * D) }), at(5 * D))).toBe('retired');
    expect(credentialState(cred({ retiresAt: at(8 * D), expiresAt: at(5 * D) }), at(6 * D))).toBe('expired');
  });

  it('revoked wins over everything, immediately', () => {
    const now = at(1 * D);
    for (const c of [
      cred({ revokedAt: now }),
      cred({ revokedAt: at(1 * D + 1000) }), // clock skew: still revoked
      cred({ revokedAt: now, retiresAt: at(0) }),
      cred({ revokedAt: now, expiresAt: at(0) }),
      cred({ revokedAt: now, retiresAt: at(2 * D) }),
    ]) {
      expect(credentialState(c, now)).toBe('revoked');
      expect(authFailureCode(c, now)).toBe('AUTH_REVOKED');
      expect(isLive(c, now)).toBe(false);
    }
  });
});

describe('planRotation', () => {
  it('defaults: new credential lives 90 days; current one retires after 24 h', () => {
    const now = at(30 * D);
    const plan = planRotation([cred()], now);
    expect(plan.newCredential.expiresAt).toEqual(at(120 * D));
    expect(plan.retire).toEqual([{ id: 'c1', retiresAt: at(30 * D + 24 * H) }]);
  });

  it('honours a custom policy', () => {
    const plan = planRotation([cred()], at(0), { overlapHours: 2, lifetimeDays: 30 });
    expect(plan.newCredential.expiresAt).toEqual(at(30 * D));
    expect(plan.retire).toEqual([{ id: 'c1', retiresAt: at(2 * H) }]);
    expect(planRotation([cred()], at(0), { overlapHours: 0 }).retire).toEqual([
      { id: 'c1', retiresAt: at(0) },
    ]);
  });

  it('rejects a nonsensical policy', () => {
    expect(() => planRotation([cred()], at(0), { overlapHours: -1 })).toThrow(RangeError);
    expect(() => planRotation([cred()], at(0), { lifetimeDays: 0 })).toThrow(RangeError);
    expect(() => planRotation([cred()], at(0), { lifetimeDays: NaN })).toThrow(RangeError);
  });

  it('never extends an earlier retiresAt', () => {
    // Only one live credential, already retiring in 3 h (e.g. retired by an operator): unchanged.
    const c = cred({ retiresAt: at(3 * H) });
    expect(planRotation([c], at(0)).retire).toEqual([]);
    // Retiring later than the new overlap end: pulled in.
    const later = cred({ retiresAt: at(5 * D) });
    expect(planRotation([later], at(0)).retire).toEqual([{ id: 'c1', retiresAt: at(24 * H) }]);
  });

  it('keeps the credential the peer rotated with and retires a newer, lost one first', () => {
    // The client holds `held`; an earlier rotation issued `lost`, but the client died before saving it.
    const held = cred({ id: 'held', createdAt: at(0), retiresAt: at(30 * D + 20 * H) });
    const lost = cred({ id: 'lost', createdAt: at(30 * D - H) });
    const plan = planRotation([held, lost], at(30 * D), {}, 'held');
    expect(plan.retire).toEqual([{ id: 'lost', retiresAt: at(30 * D) }]);
    // Without keepId the oldest (the one the client holds) would go at once.
    expect(planRotation([held, lost], at(30 * D)).retire[0]).toEqual({ id: 'held', retiresAt: at(30 * D) });
  });

  it('with two live credentials, retires the oldest immediately', () => {
    const old = cred({ id: 'old', createdAt: at(0), retiresAt: at(10 * H) });
    const cur = cred({ id: 'cur', createdAt: at(1 * H) });
    const plan = planRotation([cur, old], at(2 * H));
    expect(plan.retire).toEqual([
      { id: 'old', retiresAt: at(2 * H) },
      { id: 'cur', retiresAt: at(26 * H) },
    ]);
  });

  it('ignores dead credentials and throws ROTATION_NOT_ALLOWED without a usable one', () => {
    const now = at(100 * D);
    const dead = [
      cred({ id: 'expired' }),
      cred({ id: 'revoked', expiresAt: at(200 * D), revokedAt: at(50 * D) }),
      cred({ id: 'retired', expiresAt: at(200 * D), retiresAt: at(100 * D) }),
    ];
    expect(() => planRotation(dead, now)).toThrow(RotationError);
    expect(() => planRotation([], now)).toThrow(expect.objectContaining({ code: 'ROTATION_NOT_ALLOWED' }));

    const live = cred({ id: 'live', createdAt: at(99 * D), expiresAt: at(189 * D) });
    expect(planRotation([...dead, live], now).retire).toEqual([
      { id: 'live', retiresAt: at(100 * D + 24 * H) },
    ]);
  });

  it('keeps at most two live credentials across repeated rotations', () => {
    let creds: CredentialRecord[] = [cred({ id: 'k0' })];
    // Rotations at varying gaps: some inside the overlap window, some outside.
    const gaps = [1 * H, 2 * H, 30 * H, 0, 5 * H, 48 * H, 1, 23 * H, 24 * H, 1 * H];
    let t = 1 * D;
    gaps.forEach((gap, i) => {
      t += gap;
      const now = at(t);
      const plan = planRotation(creds, now);
      const byId = new Map(plan.retire.map((r) => [r.id, r.retiresAt]));
      creds = creds.map((c) => (byId.has(c.id) ? { ...c, retiresAt: byId.get(c.id)! } : c));
      creds.push(
        cred({ id: `k${i + 1}`, createdAt: now, expiresAt: plan.newCredential.expiresAt, retiresAt: null }),
      );
      const live = creds.filter((c) => isLive(c, now));
      expect(live.length).toBeLessThanOrEqual(2);
      expect(live.map((c) => c.id)).toContain(`k${i + 1}`);
      expect(creds.filter((c) => credentialState(c, now) === 'active')).toHaveLength(1);
      // The previous newest stays usable for the overlap (unless overlap is cut by the next rotation).
      expect(i === 0 || live.some((c) => c.id === `k${i}`)).toBe(true);
    });
  });
});

describe('expiryWarning / expiryHeader', () => {
  const c = cred(); // expires at 90 d
  it('no warning before the window, warning from exactly warnDays left', () => {
    expect(expiryWarning(c, at(76 * D - 1))).toBeNull();
    expect(expiryWarning(c, at(76 * D))).toEqual({ daysLeft: 14, expiresAt: at(90 * D) });
    expect(expiryWarning(c, at(76 * D + 1))).toEqual({ daysLeft: 14, expiresAt: at(90 * D) });
    expect(expiryWarning(c, at(89 * D))).toEqual({ daysLeft: 1, expiresAt: at(90 * D) });
    expect(expiryWarning(c, at(90 * D - 1))).toEqual({ daysLeft: 1, expiresAt: at(90 * D) });
    expect(expiryWarning(c, at(90 * D))).toBeNull(); // expired: fails instead
  });

  it('custom window', () => {
    expect(expiryWarning(c, at(82 * D), 7)).toBeNull();
    expect(expiryWarning(c, at(83 * D), 7)).toEqual({ daysLeft: 7, expiresAt: at(90 * D) });
    expect(expiryWarning(c, at(89 * D), 0)).toBeNull();
  });

  it('no warning for revoked or retired credentials', () => {
    expect(expiryWarning(cred({ revokedAt: at(80 * D) }), at(85 * D))).toBeNull();
    expect(expiryWarning(cred({ retiresAt: at(81 * D) }), at(85 * D))).toBeNull();
    expect(expiryWarning(cred({ retiresAt: at(86 * D) }), at(85 * D))).toEqual({
      daysLeft: 5,
      expiresAt: at(90 * D),
    });
  });

  it('header value', () => {
    const w = expiryWarning(c, at(85 * D))!;
    expect(expiryHeader(w)).toEqual({
      name: 'X-Credential-Expires',
      value: '2025-04-01T00:00:00.000Z; days-left=5',
    });
  });
});
