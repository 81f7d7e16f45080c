import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContractViolation, OrderSubmittedV1, validateContract } from '@switchboard/contracts';
import { signShopify } from '@switchboard/peer-auth';
import type { ProviderRequest } from '../provider-adapter';
import { shopifyAdapter, shopifyStatus } from './shopify.adapter';

const FIXTURE = join(
  __dirname,
  '../../../../../test/fixtures/providers/website/shopify.orders-create.json.txt',
);
const raw = readFileSync(FIXTURE);
const SECRET = 'shpss_0123456789abcdef';
const peer = { id: 'shop-2', timezone: null };

const request = (
  body: unknown,
  headers: ProviderRequest['headers'] = { 'x-shopify-topic': 'orders/create' },
  rawBody: Buffer = Buffer.from(JSON.stringify(body)),
): ProviderRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/shopify/shop-2',
  headers: { 'content-type': 'application/json', ...headers },
  rawBody,
  body,
  query: {},
});

const sample = (): Record<string, any> => JSON.parse(raw.toString('utf8'));
const events = (body: unknown, topic = 'orders/create') =>
  shopifyAdapter.toEvents(request(body, { 'x-shopify-topic': topic }), peer);
const payloadOf = (body: unknown) => {
  const list = events(body);
  expect(list).toHaveLength(1);
  return list[0].payload as Record<string, any>;
};

function violation(fn: () => unknown): ContractViolation {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return e as ContractViolation;
  }
  throw new Error('expected a ContractViolation');
}

describe('shopifyAdapter', () => {
  it('is the shopify provider and needs no handshake', () => {
    expect(shopifyAdapter.provider).toBe('shopify');
    expect(shopifyAdapter.handshake).toBeUndefined();
  });

  describe('the documented order example', () => {
    it('maps to one website.order.submitted event with the expected values', () => {
      expect(events(sample())).toEqual([
        {
          type: 'website.order.submitted',
          // partially_refunded is still a paid order
          idempotencyKey: 'shopify:order:450789469@2008-01-10T11:00:00-05:00:paid',
          payload: {
            externalId: '450789469',
            status: 'paid',
            createdAt: '2008-01-10T16:00:00.000Z',
            updatedAt: '2008-01-10T16:00:00.000Z',
            customer: { name: 'Bob Norman', phone: '+557734881234', email: 'bob.norman@mail.example.com' },
            deliveryAddress: 'Chestnut Street 92, Louisville, Kentucky, 40202, United States',
            items: [
              { sku: 'IPOD2008GREEN', name: 'IPod Nano - 8gb - green', quantity: 1, price: 199 },
              { sku: 'IPOD2008RED', name: 'IPod Nano - 8gb - red', quantity: 1, price: 199 },
              { sku: 'IPOD2008BLACK', name: 'IPod Nano - 8gb - black', quantity: 1, price: 199 },
            ],
            total: 598.94,
            currency: 'USD',
          },
        },
      ]);
    });

    it('passes the OrderSubmittedV1 contract', () => {
      const order = validateContract(OrderSubmittedV1, payloadOf(sample()));
      expect(order.total).toBe(598.94);
      expect(order.items).toHaveLength(3);
    });

    it('verifies its bytes signed with the app secret, and refuses a tampered copy', () => {
      // The documented X-Shopify-Hmac-Sha256 belongs to another body, so the sample is signed here.
      const signed = (body: Buffer) =>
        request(undefined, { 'x-shopify-hmac-sha256': signShopify(raw, SECRET) }, body);
      expect(shopifyAdapter.verify(signed(raw), SECRET)).toEqual({ ok: true });
      const tampered = Buffer.from(raw.toString('utf8').replace('"598.94"', '"5.94"'));
      expect(shopifyAdapter.verify(signed(tampered), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
      expect(shopifyAdapter.verify(request(undefined, {}, raw), SECRET)).toEqual({
        ok: false,
        reason: 'missing',
      });
    });
  });

  describe('ids above 2^53', () => {
    const big = '820982911946154508';
    const rawBig = (withGid: boolean) =>
      raw
        .toString('utf8')
        .replace('"id": 450789469', `"id": ${big}`)
        .replace('"gid://shopify/Order/450789469"', withGid ? `"gid://shopify/Order/${big}"` : 'null');

    it('takes the exact id from admin_graphql_api_id, not the rounded number', () => {
      const body = JSON.parse(rawBig(true));
      expect(String(body.id)).not.toBe(big); // what JSON.parse did to it
      expect(payloadOf(body).externalId).toBe(big);
    });

    it('falls back to the X-Shopify-Order-Id header', () => {
      const body = JSON.parse(rawBig(false));
      const req = request(body, { 'x-shopify-topic': 'orders/create', 'X-Shopify-Order-Id': big });
      const [event] = shopifyAdapter.toEvents(req, peer);
      expect(event.payload.externalId).toBe(big);
      expect(event.idempotencyKey).toBe(`shopify:order:${big}@2008-01-10T11:00:00-05:00:paid`);
    });

    it('refuses rather than invent an id when only the rounded number is left', () => {
      const e = violation(() => events(JSON.parse(rawBig(false))));
      expect(e.errors).toEqual([expect.objectContaining({ field: 'id', rule: 'isOrderId' })]);
    });
  });

  describe('test notifications', () => {
    it('marks "Send test notification" (X-Shopify-Test: true) as test data, keeping the order otherwise', () => {
      const req = request(sample(), { 'x-shopify-topic': 'orders/create', 'X-Shopify-Test': 'true' });
      const [event] = shopifyAdapter.toEvents(req, peer);
      expect(event.payload).toEqual({ ...payloadOf(sample()), test: true });
      expect(() => validateContract(OrderSubmittedV1, event.payload)).not.toThrow();
    });

    it("marks an order placed through a test payment gateway (the Order resource's test flag)", () => {
      expect(payloadOf({ ...sample(), test: true }).test).toBe(true);
      expect(payloadOf(sample()).test).toBeUndefined();
    });
  });

  describe('topics', () => {
    it.each([
      'orders/updated',
      'orders/paid',
      'orders/cancelled',
      'orders/fulfilled',
      'orders/partially_fulfilled',
    ])('maps %s (a full Order body)', (topic) => {
      expect(events(sample(), topic)).toHaveLength(1);
    });

    it('gives create, paid and updated of one state the same idempotency key', () => {
      const keys = ['orders/create', 'orders/paid', 'orders/updated'].map(
        (t) => events(sample(), t)[0].idempotencyKey,
      );
      expect(new Set(keys).size).toBe(1);
    });

    it('acknowledges orders/delete and orders/edited without an event', () => {
      expect(events({ id: 450789469 }, 'orders/delete')).toEqual([]);
      expect(events({ order_edit: { id: 1, order_id: 450789469 } }, 'orders/edited')).toEqual([]);
    });

    it('refuses non-order topics and a missing topic header', () => {
      const e = violation(() => events({ id: 1 }, 'products/create'));
      expect(e.errors).toEqual([expect.objectContaining({ field: 'x-shopify-topic', rule: 'isOrderTopic' })]);
      expect(e.message).toContain('"products/create" is not an order topic');
      expect(violation(() => shopifyAdapter.toEvents(request(sample(), {}), peer)).message).toContain(
        'header missing',
      );
    });
  });

  describe('statuses', () => {
    const order = (fields: Record<string, unknown>) => ({
      cancelled_at: null,
      closed_at: null,
      financial_status: 'paid',
      fulfillment_status: null,
      ...fields,
    });

    it.each([
      [{ financial_status: 'pending' }, 'pending'],
      [{ financial_status: 'partially_paid' }, 'pending'],
      [{ financial_status: 'authorized' }, 'on_hold'],
      [{ financial_status: 'paid' }, 'paid'],
      [{ financial_status: 'partially_refunded' }, 'paid'],
      [{ financial_status: 'expired' }, 'failed'],
      [{ financial_status: null }, 'new'],
      [{ financial_status: 'refunded', fulfillment_status: 'fulfilled' }, 'refunded'],
      [{ financial_status: 'voided' }, 'cancelled'],
      [{ cancelled_at: '2024-05-01T10:00:00+03:00', financial_status: 'refunded' }, 'cancelled'],
      [{ fulfillment_status: 'partial' }, 'processing'],
      [{ fulfillment_status: 'fulfilled', financial_status: 'pending' }, 'shipped'],
      [{ fulfillment_status: 'fulfilled', closed_at: '2024-05-02T10:00:00+03:00' }, 'completed'],
    ])('maps %p to %s', (fields, ours) => {
      expect(shopifyStatus(order(fields))).toBe(ours);
    });

    it('refuses an unknown financial status by name', () => {
      const e = violation(() => shopifyStatus(order({ financial_status: 'disputed' })));
      expect(e.errors[0]).toEqual(
        expect.objectContaining({ field: 'financial_status', rule: 'isKnownStatus' }),
      );
      expect(e.message).toContain('"disputed"');
    });
  });

  describe('money', () => {
    it('converts decimal strings', () => {
      const body = sample();
      body.total_price = '1999.9999';
      body.line_items[0].price = '0.50';
      const payload = payloadOf(body);
      expect(payload.total).toBe(1999.9999);
      expect(payload.items[0].price).toBe(0.5);
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it.each(['598,94', 'USD 598.94', '', null])('refuses a non-numeric total_price %p', (total) => {
      const e = violation(() => events({ ...sample(), total_price: total }));
      expect(e.errors).toEqual([expect.objectContaining({ field: 'total_price', rule: 'isDecimal' })]);
    });
  });

  describe('customer', () => {
    it('sends an email-only customer when no phone is anywhere', () => {
      const body = sample();
      body.phone = null;
      body.customer.phone = null;
      body.billing_address.phone = '';
      body.shipping_address.phone = null;
      const payload = payloadOf(body);
      expect(payload.customer).toEqual({ name: 'Bob Norman', email: 'bob.norman@mail.example.com' });
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it('takes the phone from the customer or addresses when the order has none', () => {
      const body = sample();
      body.phone = null;
      expect(payloadOf(body).customer.phone).toBe('+16136120707');
      body.customer.phone = null;
      expect(payloadOf(body).customer.phone).toBe('+1(502)-459-2181');
    });

    it('refuses an order with neither phone nor email', () => {
      const body = sample();
      body.phone = body.email = body.contact_email = null;
      delete body.customer;
      body.billing_address.phone = null;
      body.shipping_address.phone = null;
      const e = violation(() => events(body));
      expect(e.errors).toEqual([expect.objectContaining({ rule: 'hasContact' })]);
    });

    it('keeps unicode names and uses the address name for a guest checkout', () => {
      const body = sample();
      delete body.customer;
      body.billing_address.name = 'Jürgen Groß 🎁';
      const payload = payloadOf(body);
      expect(payload.customer.name).toBe('Jürgen Groß 🎁');
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });
  });

  describe('items', () => {
    it('uses the variant, product, then line item id when the SKU is empty', () => {
      const body = sample();
      body.line_items[0].sku = '';
      body.line_items[1].sku = null;
      body.line_items[1].variant_id = null;
      Object.assign(body.line_items[2], { sku: '', variant_id: null, product_id: null }); // a custom item
      expect(payloadOf(body).items.map((i: { sku: string }) => i.sku)).toEqual([
        '39072856',
        '632910392',
        '703073504',
      ]);
    });
  });

  describe('attribution, addresses and robustness', () => {
    it('reads utm_* from the landing page', () => {
      const body = {
        ...sample(),
        landing_site:
          '/products/ipod?utm_source=vk&utm_medium=social&utm_campaign=%D0%B2%D0%B5%D1%81%D0%BD%D0%B0',
      };
      const payload = payloadOf(body);
      expect(payload.utm).toEqual({ source: 'vk', medium: 'social', campaign: 'весна' });
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it('cuts an overlong utm value to the contract limit instead of losing the order', () => {
      const payload = payloadOf({ ...sample(), landing_site: `/?utm_content=${'x'.repeat(500)}` });
      expect(payload.utm.content).toHaveLength(200);
    });

    it('falls back to the billing address when there is no shipping address', () => {
      const body = { ...sample(), shipping_address: null };
      expect(payloadOf(body).deliveryAddress).toBe(
        'Chestnut Street 92, Louisville, Kentucky, 40202, United States',
      );
    });

    it('ignores fields the provider adds later', () => {
      const body = sample();
      body.merchant_business_entity_id = 'gid://shopify/BusinessEntity/1';
      body.line_items[0].sales_line_item_group_id = 7;
      expect(payloadOf(body)).toEqual(payloadOf(sample()));
    });

    it.each([[[]], ['order'], [null]])('refuses a non-object body %p', (body) => {
      const e = violation(() => events(body));
      expect(e.errors).toEqual([expect.objectContaining({ field: '', rule: 'isObject' })]);
    });

    it('refuses a timestamp without a zone: Shopify always sends one', () => {
      const e = violation(() => events({ ...sample(), created_at: '2008-01-10T11:00:00' }));
      expect(e.errors[0]).toEqual(expect.objectContaining({ field: 'created_at', rule: 'isTimestamp' }));
    });
  });
});
