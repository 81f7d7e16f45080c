import { order, TestSystem } from './support/system';

/** Bad input: a clear problem+json with a stable code and field errors, and nothing published. */
describe('gateway rejects bad input without publishing', () => {
  // No connector runs, so anything published would stay in the queue where we can count it.
  const sys = new TestSystem('bad-input', { GATEWAY_BODY_LIMIT_BYTES: '65536' });
  let queue: string;

  beforeAll(async () => {
    await sys.start(['gateway']);
    queue = sys.queue('website-connector');
  });
  afterAll(() => sys.destroy());

  async function expectProblem(res: Response, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ status, code, type: expect.stringContaining('urn:switchboard:problem:') });
    expect(typeof body.title).toBe('string');
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js:\d+|node_modules/);
    return body;
  }

  const cases: Array<[string, () => Promise<Response>, number, string, string[]]> = [
    [
      'invalid JSON',
      () => sys.post('/v1/website/orders', '{"externalId": "A-1", '),
      400,
      'MALFORMED_BODY',
      [],
    ],
    ['an empty body', () => sys.post('/v1/website/orders', ''), 400, 'MALFORMED_BODY', []],
    ['a JSON array', () => sys.post('/v1/website/orders', '[1,2]'), 400, 'VALIDATION_FAILED', []],
    [
      'missing fields',
      () => {
        const o = order();
        delete o.externalId;
        delete o.items;
        return sys.post('/v1/website/orders', o);
      },
      400,
      'VALIDATION_FAILED',
      ['externalId', 'items'],
    ],
    [
      'mistyped fields',
      () =>
        sys.post(
          '/v1/website/orders',
          order({
            total: '2001',
            createdAt: 'yesterday',
            items: [{ sku: 'A', name: 'B', quantity: -1, price: 1 }],
          }),
        ),
      400,
      'VALIDATION_FAILED',
      ['total', 'createdAt', 'items.0.quantity'],
    ],
    [
      'unknown fields',
      () => sys.post('/v1/website/orders', order({ couponCode: 'FREE', utm: { source: 'x', gclid: 'y' } })),
      400,
      'VALIDATION_FAILED',
      ['couponCode', 'utm.gclid'],
    ],
    [
      'a NUL character in a field',
      () => sys.post('/v1/website/orders', order({ deliveryAddress: 'Moscow\u0000' })),
      400,
      'VALIDATION_FAILED',
      ['deliveryAddress'],
    ],
    [
      'a year PostgreSQL cannot store',
      () => sys.post('/v1/website/orders', order({ createdAt: '0000-01-01T00:00:00Z' })),
      400,
      'VALIDATION_FAILED',
      ['createdAt'],
    ],
    [
      'an oversized body',
      () => sys.post('/v1/website/orders', order({ deliveryAddress: 'x'.repeat(70_000) })),
      413,
      'PAYLOAD_TOO_LARGE',
      [],
    ],
    [
      'a non-JSON content type',
      () =>
        fetch(`${sys.app('gateway').url}/v1/website/orders`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain', authorization: `Bearer ${sys.peerKey}` },
          body: 'hello',
        }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      [],
    ],
    [
      'no credentials',
      () =>
        fetch(`${sys.app('gateway').url}/v1/website/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(order()),
        }),
      401,
      'AUTH_MISSING',
      [],
    ],
    [
      'a wrong key',
      () => sys.post('/v1/website/orders', order(), { authorization: 'Bearer not-the-key-0123456789' }),
      401,
      'AUTH_INVALID',
      [],
    ],
    [
      'a bad Idempotency-Key header',
      () => sys.post('/v1/website/orders', order(), { 'idempotency-key': 'x'.repeat(300) }),
      400,
      'VALIDATION_FAILED',
      [],
    ],
    ['an unknown route', () => sys.post('/v1/website/nothing', order()), 404, 'NOT_FOUND', []],
    [
      'a wrong method on a peer route',
      () => fetch(`${sys.app('gateway').url}/v1/website/orders`, { method: 'DELETE' }),
      404,
      'NOT_FOUND',
      [],
    ],
  ];

  it.each(cases)(
    'answers %s with a problem and publishes nothing',
    async (_name, send, status, code, fields) => {
      const body = await expectProblem(await send(), status, code);
      // arrayContaining([]) holds for any array, so cases without fields need no branch.
      expect(body.errors?.map((e: { field: string }) => e.field) ?? []).toEqual(
        expect.arrayContaining(fields),
      );
      expect(await sys.queueDepth(queue)).toBe(0);
    },
  );

  it('publishes a valid order (the depth check above can see a message)', async () => {
    expect((await sys.post('/v1/website/orders', order())).status).toBe(202);
    expect(await sys.queueDepth(queue)).toBe(1);
  });
});
