import {
  backoffMs,
  classify,
  DeliveryPolicy,
  EndpointHealth,
  isHalfOpen,
  nextDeliveryState,
  nextEndpointHealth,
  retryAfterMs,
} from './delivery-policy';

const P: DeliveryPolicy = {
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  retryForHours: 24,
  breakerFailures: 3,
  breakerCooldownMs: 30_000,
  pauseAfterHours: 24,
};
const T0 = new Date('2026-12-07T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const HOUR = 3_600_000;

describe('classify: the site answer decides', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [400, 'permanent'],
    [404, 'permanent'],
    [410, 'permanent'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [301, 'retry'],
    [null, 'retry'],
  ])('%s -> %s', (status, kind) => expect(classify({ httpStatus: status })).toBe(kind));
});

describe('backoff', () => {
  it('doubles the cap per attempt up to retryMaxMs, with full jitter', () => {
    expect(backoffMs(1, P, () => 0.999, null)).toBe(999);
    expect(backoffMs(3, P, () => 0.999, null)).toBe(3996);
    expect(backoffMs(30, P, () => 0.999, null)).toBe(59_940);
    expect(backoffMs(5, P, () => 0, null)).toBe(0);
  });

  it('never retries sooner than Retry-After (seconds or an HTTP date)', () => {
    expect(retryAfterMs('120', T0)).toBe(120_000);
    expect(retryAfterMs(new Date(T0.getTime() + 30_000).toUTCString(), T0)).toBe(30_000);
    expect(retryAfterMs('soon', T0)).toBeNull();
    expect(backoffMs(1, P, () => 0.5, 120_000)).toBe(120_000);
  });
});

describe('nextDeliveryState', () => {
  it('delivered on 2xx; a dead letter at once on a 4xx refusal', () => {
    expect(nextDeliveryState({ httpStatus: 200 }, 1, T0, T0, P)).toEqual({ status: 'delivered' });
    expect(nextDeliveryState({ httpStatus: 422 }, 1, T0, T0, P)).toEqual({
      status: 'failed',
      errorCode: 'OUTBOUND_REJECTED',
    });
  });

  it('retries 5xx/408/429/no answer until retryForHours after the first attempt, then gives up', () => {
    const retry = nextDeliveryState({ httpStatus: 503 }, 2, T0, at(HOUR), P, () => 0.5);
    expect(retry).toEqual({
      status: 'pending',
      nextAttemptAt: at(HOUR + 1000),
      errorCode: 'OUTBOUND_HTTP_ERROR',
    });
    const unreachable = nextDeliveryState(
      { httpStatus: null, errorCode: 'OUTBOUND_UNREACHABLE' },
      1,
      T0,
      T0,
      P,
      () => 0,
    );
    expect(unreachable).toMatchObject({ status: 'pending', errorCode: 'OUTBOUND_UNREACHABLE' });
    expect(nextDeliveryState({ httpStatus: 503 }, 40, T0, at(24 * HOUR - 1000), P, () => 0.5)).toEqual({
      status: 'failed',
      errorCode: 'OUTBOUND_RETRIES_EXHAUSTED',
    });
  });

  it('gives up when Retry-After asks for a time past the window', () => {
    const r = nextDeliveryState({ httpStatus: 429, retryAfter: String(2 * 86_400) }, 1, T0, T0, P);
    expect(r).toEqual({ status: 'failed', errorCode: 'OUTBOUND_RETRIES_EXHAUSTED' });
  });
});

describe('endpoint health: breaker and 24-hour pause', () => {
  const healthy: EndpointHealth = {
    state: 'active',
    consecutiveFailures: 0,
    failingSince: null,
    breakerOpenUntil: null,
    pausedAt: null,
  };
  const fail = { httpStatus: 503 };

  it('opens the breaker at breakerFailures in a row and half-opens after the cooldown', () => {
    let h = nextEndpointHealth(healthy, [fail, fail], T0, P);
    expect(h).toMatchObject({ consecutiveFailures: 2, failingSince: T0, breakerOpenUntil: null });
    h = nextEndpointHealth(h, [fail], at(1000), P);
    expect(h.breakerOpenUntil).toEqual(at(31_000));
    expect(isHalfOpen(h, at(30_999))).toBe(false);
    expect(isHalfOpen(h, at(31_000))).toBe(true);
  });

  it('closes on any success, and a 4xx refusal counts as the endpoint working', () => {
    const open = nextEndpointHealth(healthy, [fail, fail, fail], T0, P);
    expect(nextEndpointHealth(open, [{ httpStatus: 200 }], at(40_000), P)).toMatchObject({
      consecutiveFailures: 0,
      failingSince: null,
      breakerOpenUntil: null,
    });
    expect(nextEndpointHealth(open, [{ httpStatus: 400 }], at(40_000), P).consecutiveFailures).toBe(0);
  });

  it('pauses an endpoint failing without a success for pauseAfterHours (clock moved, not waited)', () => {
    let h = nextEndpointHealth(healthy, [fail], T0, P);
    h = nextEndpointHealth(h, [fail], at(24 * HOUR - 1), P);
    expect(h.state).toBe('active');
    h = nextEndpointHealth(h, [fail], at(24 * HOUR), P);
    expect(h).toMatchObject({ state: 'paused', pausedAt: at(24 * HOUR), failingSince: T0 });
    // Stays paused (with its first pause time) until an operator updates it.
    expect(nextEndpointHealth(h, [fail], at(25 * HOUR), P)).toMatchObject({
      state: 'paused',
      pausedAt: at(24 * HOUR),
    });
  });
});
