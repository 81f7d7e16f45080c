import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shopifyAdapter } from '../providers/website/shopify.adapter';
import { wooCommerceAdapter } from '../providers/website/woocommerce.adapter';
import { providerRequest } from './signed-request';
import type { PeerRequest } from './strategies';

const WEBSITE_FIXTURES = join(__dirname, '../../../../test/fixtures/providers/website');
const BIG = '820982911946154508'; // above 2^53: JSON.parse makes it 820982911946154500

/** A request as Fastify hands it over: the raw bytes, and the body its JSON.parse produced. */
function fastifyRequest(text: string, headers: Record<string, string>): PeerRequest {
  return {
    method: 'POST',
    protocol: 'https',
    host: 'sb.example',
    url: '/v1/providers/x/peer',
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    rawBody: Buffer.from(text),
    body: JSON.parse(text),
    query: {},
  } as unknown as PeerRequest;
}

describe('providerRequest: provider JSON is read losslessly', () => {
  it('gives integers above 2^53 as exact text and every other number as JSON.parse does', () => {
    const req = fastifyRequest(`{"id":${BIG},"n":7,"price":24.545454545454547,"neg":-0.5}`, {});
    expect(providerRequest(req).body).toEqual({ id: BIG, n: 7, price: 24.545454545454547, neg: -0.5 });
  });

  it('keeps the HTTP layer body for forms and for JSON it cannot take again (a duplicated key)', () => {
    const form = { ...fastifyRequest('{"a":1}', {}), headers: { 'content-type': 'text/plain' } };
    (form as { body: unknown }).body = 'as parsed';
    expect(providerRequest(form as PeerRequest).body).toBe('as parsed');
    expect(providerRequest(fastifyRequest('{"a":1,"a":2}', {})).body).toEqual({ a: 2 });
  });

  it('reads a Shopify order id above 2^53 with neither admin_graphql_api_id nor X-Shopify-Order-Id', () => {
    const text = readFileSync(join(WEBSITE_FIXTURES, 'shopify.orders-create.json.txt'), 'utf8')
      .replace('"id": 450789469', `"id": ${BIG}`)
      .replace('"gid://shopify/Order/450789469"', 'null');
    const [event] = shopifyAdapter.toEvents(
      providerRequest(fastifyRequest(text, { 'x-shopify-topic': 'orders/create' })),
      { id: 'shop', timezone: null },
    );
    expect(event.payload.externalId).toBe(BIG);
    expect(event.idempotencyKey).toBe(`shopify:order:${BIG}@2008-01-10T11:00:00-05:00:paid`);
  });

  it('reads WooCommerce order, product and variation ids above 2^53', () => {
    const order = JSON.parse(
      readFileSync(join(WEBSITE_FIXTURES, 'woocommerce.order.created.json.txt'), 'utf8'),
    );
    order.line_items = [{ ...order.line_items[0], sku: '', variation_id: 0 }];
    const text = JSON.stringify({ ...order, id: 1 })
      .replace('"id":1,', `"id":${BIG},`)
      .replace(`"product_id":${order.line_items[0].product_id}`, `"product_id":9007199254740993`);
    const [event] = wooCommerceAdapter.toEvents(
      providerRequest(fastifyRequest(text, { 'x-wc-webhook-topic': 'order.created' })),
      { id: 'shop', timezone: null },
    );
    expect(event.payload.externalId).toBe(BIG);
    expect((event.payload.items as Array<{ sku: string }>)[0].sku).toBe('9007199254740993');
  });
});
