import {
  newRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  totpCode,
  totpEnrolment,
  totpStep,
  verifyTotp,
} from './totp';

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 appendix B: the SHA-1 seed "12345678901234567890"; 6-digit codes are the last 6 of the 8 given.
  const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

  it('computes the RFC 6238 test vectors', () => {
    expect(totpCode(rfcSecret, 59_000)).toBe('287082');
    expect(totpCode(rfcSecret, 1_111_111_109_000)).toBe('081804');
    expect(totpCode(rfcSecret, 2_000_000_000_000)).toBe('279037');
  });

  it('accepts the current code and one step of drift, nothing further', () => {
    const t = 1_700_000_000_000;
    const secret = newTotpSecret();
    expect(verifyTotp(secret, totpCode(secret, t), t)).toBe(true);
    expect(verifyTotp(secret, totpCode(secret, t - 30_000), t)).toBe(true);
    expect(verifyTotp(secret, totpCode(secret, t + 30_000), t)).toBe(true);
    expect(verifyTotp(secret, totpCode(secret, t - 90_000), t)).toBe(false);
    expect(verifyTotp(secret, 'abcdef', t)).toBe(false);
  });

  it('names the time step a code belongs to, so a used step can be refused', () => {
    const t = 1_700_000_000_000; // step 56,666,666 (+ 20 s)
    const secret = newTotpSecret();
    expect(totpStep(secret, totpCode(secret, t), t)).toBe(56_666_666);
    expect(totpStep(secret, totpCode(secret, t - 30_000), t)).toBe(56_666_665);
    expect(totpStep(secret, totpCode(secret, t + 30_000), t)).toBe(56_666_667);
    expect(totpStep(secret, totpCode(secret, t + 90_000), t)).toBeNull();
    expect(totpStep(secret, '12345', t)).toBeNull();
  });

  it('gives an otpauth:// URI and a PNG QR code for enrolment', async () => {
    const e = await totpEnrolment(rfcSecret, 'ops@example.com');
    expect(e.uri).toBe(
      'otpauth://totp/Switchboard:ops%40example.com?issuer=Switchboard&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30',
    );
    expect(e.qrDataUrl).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  });

  it('makes ten distinct recovery codes, normalized for comparison', () => {
    const codes = newRecoveryCodes();
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect(normalizeRecoveryCode(' ABCD-efgh-2345 ')).toBe('abcd-efgh-2345');
  });
});
