import {
  signStandardWebhook,
  verifyStandardWebhook,
  verifyStandardWebhookSignature,
} from './standard-webhooks';
import type { SignedRequest } from './types';

// Test vector published with the Standard Webhooks specification (standard-webhooks/standard-webhooks).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const at = (seconds: number) => () => seconds * 1000;

const req = (headers: SignedRequest['headers'], body: string | Buffer = BODY): SignedRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/peer',
  headers,
  rawBody: Buffer.from(body),
});
const hdrs = (sig = SIG, ts = TS, id = ID) => ({
  'webhook-id': id,
  'webhook-timestamp': String(ts),
  'webhook-signature': sig,
});

describe('verifyStandardWebhookSignature', () => {
  it('reproduces and accepts the specification test vector', () => {
    expect(signStandardWebhook(ID, TS, BODY, SECRET)).toBe(SIG);
    expect(verifyStandardWebhookSignature(req(hdrs()), SECRET, { now: at(TS) })).toEqual({ ok: true });
  });

  it('uses non-whsec secrets as raw bytes (string or Buffer)', () => {
    const raw = 'plain-shared-secret';
    const sig = signStandardWebhook(ID, TS, BODY, raw);
    expect(sig).toBe(signStandardWebhook(ID, TS, BODY, Buffer.from(raw)));
    expect(verifyStandardWebhookSignature(req(hdrs(sig)), raw, { now: at(TS) }).ok).toBe(true);
  });

  it('rejects a one-byte body change, a wrong secret and a changed id', () => {
    const opts = { now: at(TS) };
    expect(verifyStandardWebhookSignature(req(hdrs(), '{"test": 2432232315}'), SECRET, opts)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(
      verifyStandardWebhookSignature(req(hdrs()), 'whsec_' + Buffer.from('x').toString('base64'), opts).ok,
    ).toBe(false);
    expect(verifyStandardWebhookSignature(req(hdrs(SIG, TS, 'msg_other')), SECRET, opts).ok).toBe(false);
  });

  it('reports each missing header and a malformed timestamp', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const h: Record<string, string> = hdrs();
      delete h[name];
      expect(verifyStandardWebhookSignature(req(h), SECRET, { now: at(TS) })).toEqual({
        ok: false,
        reason: 'missing',
      });
    }
    expect(verifyStandardWebhookSignature(req(hdrs(SIG, NaN)), SECRET)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('reads headers whatever their case', () => {
    const h = { 'Webhook-Id': ID, 'WEBHOOK-TIMESTAMP': String(TS), 'Webhook-Signature': SIG };
    expect(verifyStandardWebhookSignature(req(h), SECRET, { now: at(TS) }).ok).toBe(true);
  });

  it('rejects expired and future timestamps outside the tolerance', () => {
    const s = (seconds: number) => verifyStandardWebhookSignature(req(hdrs()), SECRET, { now: at(seconds) });
    expect(s(TS + 300).ok).toBe(true);
    expect(s(TS - 300).ok).toBe(true);
    expect(s(TS + 301)).toEqual({ ok: false, reason: 'expired' });
    expect(s(TS - 301)).toEqual({ ok: false, reason: 'expired' });
    const tight = { now: at(TS + 11), toleranceSeconds: 10 };
    expect(verifyStandardWebhookSignature(req(hdrs()), SECRET, tight)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('accepts when any one of several v1 signatures matches (rotation); ignores other versions', () => {
    const other = signStandardWebhook(ID, TS, BODY, 'whsec_' + Buffer.from('old-key').toString('base64'));
    const multi = `v1a,ZmFrZQ== ${other}  ${SIG}`;
    expect(verifyStandardWebhookSignature(req(hdrs(multi)), SECRET, { now: at(TS) }).ok).toBe(true);
    expect(verifyStandardWebhookSignature(req(hdrs(`v2,${SIG.slice(3)}`)), SECRET, { now: at(TS) }).ok).toBe(
      false,
    );
    const repeated = req({ ...hdrs(), 'webhook-signature': [other, SIG] });
    expect(verifyStandardWebhookSignature(repeated, SECRET, { now: at(TS) }).ok).toBe(true);
  });

  it('handles empty and unicode bodies', () => {
    for (const body of ['', '{"msg":"Grüße, 世界 ✓"}']) {
      const sig = signStandardWebhook(ID, TS, body, SECRET);
      expect(verifyStandardWebhookSignature(req(hdrs(sig), body), SECRET, { now: at(TS) }).ok).toBe(true);
    }
  });
});

describe('verifyStandardWebhook (replay)', () => {
  it('asks seen() only for authentic fresh requests and reports replays', async () => {
    const ids = new Set<string>();
    const seen = jest.fn((id: string) => ids.has(id) || (ids.add(id), false));
    const opts = { now: at(TS), seen };
    expect(await verifyStandardWebhook(req(hdrs()), SECRET, opts)).toEqual({ ok: true });
    expect(await verifyStandardWebhook(req(hdrs()), SECRET, opts)).toEqual({ ok: false, reason: 'replayed' });
    expect(await verifyStandardWebhook(req(hdrs(), 'forged'), SECRET, opts)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(await verifyStandardWebhook(req(hdrs()), SECRET, { ...opts, now: at(TS + 600) })).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(seen).toHaveBeenCalledTimes(2);
  });

  it('awaits an async store', async () => {
    const seen = jest.fn(async () => true);
    expect(await verifyStandardWebhook(req(hdrs()), SECRET, { now: at(TS), seen })).toEqual({
      ok: false,
      reason: 'replayed',
    });
    expect(seen).toHaveBeenCalledWith(ID);
  });
});
