import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, ROOT, TestSystem } from './support/system';

/**
 * Shopify end to end: an orders/create webhook (test/fixtures/providers/website/shopify.orders-create.json.txt,
 * see its SOURCE.md) signed as Shopify signs it — base64 HMAC-SHA256 of the raw body with the app secret, computed
 * here with node:crypto, not with our own signer — becomes one deal in the CRM; a replay of the same delivery
 * changes nothing, and a tampered body is refused.
 */
describe('Shopify end to end', () => {
  const sys = new TestSystem('shopify');
  const SECRET = 'shpss_e2e-app-secret-0123456789';
  const raw = readFileSync(join(ROOT, 'test/fixtures/providers/website/shopify.orders-create.json.txt'));
  const sign = (body: Buffer) => createHmac('sha256', SECRET).update(body).digest('base64');

  beforeAll(async () => {
    await sys.start(['gateway', 'website-connector', 'console']);
    const res = await sys.consoleCall('POST', '/v1/admin/peers', {
      id: 'shopify-e2e',
      name: 'Shopify shop',
      kind: 'website',
      scopes: ['website.*'],
      provider: 'shopify',
      signingSecret: SECRET,
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => sys.destroy());

  const post = (body: Buffer, signature: string, webhookId = randomUUID()) =>
    fetch(`${sys.app('gateway').url}/v1/providers/shopify/shopify-e2e`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'e2e-shop.myshopify.com',
        'x-shopify-webhook-id': webhookId,
        'x-shopify-hmac-sha256': signature,
      },
      body,
    });

  it('turns a signed orders/create webhook into one paid deal with its items and customer', async () => {
    // The gateway learns of the new peer through NOTIFY: retry until it knows it.
    const accepted = (await eventually(async () => {
      const res = await post(raw, sign(raw));
      return res.status === 202 ? res : null;
    }, 10_000))!;
    const { eventIds } = (await accepted.json()) as { eventIds: string[] };
    expect(eventIds).toHaveLength(1);

    const [deal] = (await eventually(async () => {
      const rows = await sys.sql<any>(
        `SELECT d.*, (SELECT count(*)::int FROM deal_items i WHERE i.deal_id = d.id) AS items
           FROM deals d WHERE d.peer_id = 'shopify-e2e' AND d.external_id = '450789469'`,
      );
      return rows.length ? rows : null;
    }))!;
    expect({ status: deal.status, amount: Number(deal.amount), items: deal.items }).toEqual({
      status: 'paid',
      amount: 598.94,
      items: 3,
    });
    const contacts = await sys.sql<{ emails: string[] }>(
      `SELECT emails FROM contacts WHERE emails @> ARRAY['bob.norman@mail.example.com']`,
    );
    expect(contacts).toHaveLength(1);
  });

  it('refuses a tampered body and a wrong secret; a redelivery of the same webhook changes nothing', async () => {
    const tampered = Buffer.from(raw.toString('utf8').replace('"598.94"', '"5.94"'));
    const bad = await post(tampered, sign(raw));
    expect({ status: bad.status, code: ((await bad.json()) as { code: string }).code }).toEqual({
      status: 401,
      code: 'AUTH_SIGNATURE_INVALID',
    });
    const wrongKey = await post(raw, createHmac('sha256', 'another').update(raw).digest('base64'));
    expect(wrongKey.status).toBe(401);

    // Shopify retries a delivery it thinks failed: the same order again is absorbed by the idempotency key.
    const before = await sys.consumed('website-connector');
    expect((await post(raw, sign(raw))).status).toBe(202);
    await sys.consumedOk('website-connector', before, 1);
    const deals = await sys.sql(`SELECT 1 FROM deals WHERE peer_id = 'shopify-e2e'`);
    expect(deals).toHaveLength(1);
  });
});
