import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContractViolation, EventType, OrderSubmittedV1, validateContract } from '@switchboard/contracts';
import { signWooCommerce } from '@switchboard/peer-auth';
import type { ProviderRequest } from '../provider-adapter';
import { decodeEntities, WOO_STATUS, wooCommerceAdapter } from './woocommerce.adapter';

const FIXTURE = join(
  __dirname,
  '../../../../../test/fixtures/providers/website/woocommerce.order.created.json.txt',
);
const raw = readFileSync(FIXTURE);
const SECRET = 'wc-secret-7Qz&amp;x';
const peer = { id: 'shop-1', timezone: 'Europe/Moscow' };

const request = (
  body: unknown,
  headers: ProviderRequest['headers'] = { 'x-wc-webhook-topic': 'order.created' },
  rawBody: Buffer = Buffer.from(JSON.stringify(body)),
): ProviderRequest => ({
  method: 'POST',
  url: 'https://sb.example/hooks/woocommerce/shop-1',
  headers: { 'content-type': 'application/json', ...headers },
  rawBody,
  body,
  query: {},
});

/** A fresh parsed copy of the real sample, for edits. */
const sample = (): Record<string, any> => JSON.parse(raw.toString('utf8'));

const events = (body: unknown, topic = 'order.created') =>
  wooCommerceAdapter.toEvents(request(body, { 'x-wc-webhook-topic': topic }), peer);
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

describe('wooCommerceAdapter', () => {
  it('is the woocommerce provider', () => {
    expect(wooCommerceAdapter.provider).toBe('woocommerce');
  });

  describe('the real order.created sample', () => {
    const fixtureRequest = () => request(JSON.parse(raw.toString('utf8')), undefined, raw);

    it('maps to one website.order.submitted event with the expected values', () => {
      expect(wooCommerceAdapter.toEvents(fixtureRequest(), peer)).toEqual([
        {
          type: 'website.order.submitted',
          idempotencyKey: 'woocommerce:order:727@2017-03-22T19:28:08:processing',
          payload: {
            externalId: '727',
            status: 'processing',
            createdAt: '2017-03-22T19:28:02.000Z',
            updatedAt: '2017-03-22T19:28:08.000Z',
            paidAt: '2017-03-22T19:28:08.000Z',
            customer: { name: 'John Doe', phone: '(555) 555-5555', email: 'john.doe@example.com' },
            deliveryAddress: '969 Market, San Francisco, CA, 94103, US',
            items: [
              { sku: '93', name: 'Woo Single #1', quantity: 2, price: 3 },
              {
                sku: 'Bar3',
                name: 'Ship Your Idea \u2013 Color: Black, Size: M Test',
                quantity: 1,
                price: 12,
              },
            ],
            total: 29.35,
            currency: 'USD',
          },
        },
      ]);
    });

    it('passes the OrderSubmittedV1 contract', () => {
      const [event] = wooCommerceAdapter.toEvents(fixtureRequest(), peer);
      expect(event.type).toBe(EventType.WebsiteOrderSubmitted);
      const order = validateContract(OrderSubmittedV1, event.payload);
      expect(order.externalId).toBe('727');
      expect(order.items.map((i) => i.sku)).toEqual(['93', 'Bar3']);
    });

    it('verifies its bytes signed with the peer secret, and refuses a tampered copy', () => {
      // SOURCE.md publishes no secret, so the sample is signed here the way WooCommerce signs it.
      const signed = (body: Buffer) =>
        request(undefined, { 'x-wc-webhook-signature': signWooCommerce(raw, SECRET) }, body);
      expect(wooCommerceAdapter.verify(signed(raw), SECRET)).toEqual({ ok: true });

      const tampered = Buffer.from(raw.toString('utf8').replace('"29.35"', '"2.35"'));
      expect(wooCommerceAdapter.verify(signed(tampered), SECRET)).toEqual({ ok: false, reason: 'mismatch' });
      expect(wooCommerceAdapter.verify(signed(raw), 'another-secret')).toEqual({
        ok: false,
        reason: 'mismatch',
      });
      expect(wooCommerceAdapter.verify(request(undefined, {}, raw), SECRET)).toEqual({
        ok: false,
        reason: 'missing',
      });
    });
  });

  describe('handshake', () => {
    it("answers WooCommerce's unsigned webhook_id ping with 200 and no event", () => {
      const ping = request(
        { webhook_id: '15' },
        { 'content-type': 'application/x-www-form-urlencoded' },
        Buffer.from('webhook_id=15'),
      );
      expect(wooCommerceAdapter.handshake?.(ping, SECRET)).toEqual({
        status: 200,
        contentType: 'text/plain; charset=utf-8',
        body: '',
      });
    });

    it('is null for an order delivery and for a signed ping look-alike', () => {
      expect(wooCommerceAdapter.handshake?.(request(sample(), undefined, raw), SECRET)).toBeNull();
      const signedPing = request(
        undefined,
        { 'x-wc-webhook-signature': 'abc' },
        Buffer.from('webhook_id=15'),
      );
      expect(wooCommerceAdapter.handshake?.(signedPing, SECRET)).toBeNull();
    });
  });

  describe('topics', () => {
    it('maps order.updated and order.restored like order.created', () => {
      expect(events(sample(), 'order.updated')).toHaveLength(1);
      expect(events(sample(), 'order.restored')).toHaveLength(1);
    });

    it('reads the topic header whatever its case', () => {
      const req = request(sample(), { 'X-WC-Webhook-Topic': 'order.updated' });
      expect(wooCommerceAdapter.toEvents(req, peer)).toHaveLength(1);
    });

    it('acknowledges order.deleted (body is only the id) without an event', () => {
      expect(events({ id: 727 }, 'order.deleted')).toEqual([]);
    });

    it('refuses non-order topics and a missing topic header', () => {
      const product = violation(() => events({ id: 93, name: 'Woo Single #1' }, 'product.created'));
      expect(product.errors).toEqual([
        expect.objectContaining({ field: 'x-wc-webhook-topic', rule: 'isOrderTopic' }),
      ]);
      expect(product.message).toContain('"product.created" is not an order topic');
      const missing = violation(() => wooCommerceAdapter.toEvents(request(sample(), {}), peer));
      expect(missing.message).toContain('header missing');
    });
  });

  describe('statuses', () => {
    it.each([
      ['pending', 'pending'],
      ['processing', 'processing'],
      ['on-hold', 'on_hold'],
      ['completed', 'completed'],
      ['cancelled', 'cancelled'],
      ['refunded', 'refunded'],
      ['failed', 'failed'],
      ['shipped', 'shipped'], // a plugin status that already names a contract status
      ['delivered', 'delivered'],
    ])('maps %s to %s', (woo, ours) => {
      const payload = payloadOf({ ...sample(), status: woo });
      expect(payload.status).toBe(ours);
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it('covers every documented WooCommerce status', () => {
      expect(Object.keys(WOO_STATUS).sort()).toEqual(
        ['cancelled', 'completed', 'failed', 'on-hold', 'pending', 'processing', 'refunded'].sort(),
      );
    });

    it.each(['checkout-draft', 'auto-draft', 'trash'])('records nothing for %s (not a placed order)', (s) => {
      expect(events({ ...sample(), status: s }, 'order.updated')).toEqual([]);
    });

    it('refuses an unknown status by name', () => {
      const e = violation(() => events({ ...sample(), status: 'awaiting-shipment' }));
      expect(e.errors[0]).toEqual(expect.objectContaining({ field: 'status', rule: 'isKnownStatus' }));
      expect(e.message).toContain('"awaiting-shipment"');
    });

    it('puts the raw status and modification time in the idempotency key', () => {
      const [event] = events({ ...sample(), status: 'on-hold', date_modified_gmt: '2017-03-23T08:00:00' });
      expect(event.idempotencyKey).toBe('woocommerce:order:727@2017-03-23T08:00:00:on-hold');
    });
  });

  describe('money', () => {
    it('converts decimal strings exactly and derives the unit price from the line total', () => {
      const body = sample();
      body.total = '1234.5678';
      body.line_items = [{ ...body.line_items[0], quantity: 3, total: '10.00', price: 3.3333333333333335 }];
      const payload = payloadOf(body);
      expect(payload.total).toBe(1234.5678);
      expect(payload.items[0]).toEqual({ sku: '93', name: 'Woo Single #1', quantity: 3, price: 3.3333 });
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it('accepts "0.00" for a free order', () => {
      expect(payloadOf({ ...sample(), total: '0.00' }).total).toBe(0);
    });

    it.each(['12,50', '1 234.00', '$29.35', '1e3', '', 'NaN', null, true])(
      'refuses a non-numeric total %p',
      (total) => {
        const e = violation(() => events({ ...sample(), total }));
        expect(e.errors).toEqual([expect.objectContaining({ field: 'total', rule: 'isDecimal' })]);
      },
    );

    it('refuses a non-numeric line total with its provider path', () => {
      const body = sample();
      body.line_items[1].total = 'twelve';
      const e = violation(() => events(body));
      expect(e.errors[0]).toEqual(
        expect.objectContaining({ field: 'line_items.1.total', rule: 'isDecimal' }),
      );
    });
  });

  describe('customer', () => {
    it('sends an email-only customer when the phone is missing', () => {
      const body = sample();
      body.billing.phone = '';
      const payload = payloadOf(body);
      expect(payload.customer).toEqual({ name: 'John Doe', email: 'john.doe@example.com' });
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it('falls back to the shipping phone (WooCommerce 5.6+)', () => {
      const body = sample();
      body.billing.phone = '';
      body.billing.email = '';
      body.shipping.phone = '+7 912 345-67-89';
      expect(payloadOf(body).customer).toEqual({ name: 'John Doe', phone: '+7 912 345-67-89' });
    });

    it('refuses an order with neither phone nor email', () => {
      const body = sample();
      body.billing.phone = '';
      delete body.billing.email;
      const e = violation(() => events(body));
      expect(e.errors).toEqual([expect.objectContaining({ field: 'billing', rule: 'hasContact' })]);
    });

    it('keeps unicode names and addresses intact', () => {
      const body = sample();
      Object.assign(body.billing, { first_name: 'Анна-Мария', last_name: 'Çelik 李' });
      Object.assign(body.shipping, {
        address_1: 'ул. Тверская, д. 1',
        city: 'Москва',
        state: '',
        country: 'RU',
      });
      body.line_items[0].name = 'Чай «Зелёный» 🍵';
      const payload = payloadOf(body);
      expect(payload.customer.name).toBe('Анна-Мария Çelik 李');
      expect(payload.deliveryAddress).toBe('ул. Тверская, д. 1, Москва, 94103, RU');
      expect(payload.items[0].name).toBe('Чай «Зелёный» 🍵');
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it('uses the company when there is no person name, and omits the name when there is neither', () => {
      const body = sample();
      Object.assign(body.billing, { first_name: '', last_name: '', company: 'ООО «Ромашка»' });
      Object.assign(body.shipping, { first_name: '', last_name: '' });
      expect(payloadOf(body).customer.name).toBe('ООО «Ромашка»');
      body.billing.company = '';
      expect(payloadOf(body).customer).not.toHaveProperty('name');
    });
  });

  describe('items', () => {
    it('uses the variation id, else the product id, when the SKU is empty', () => {
      const body = sample();
      body.line_items[1].sku = '';
      body.line_items[0].sku = '   ';
      expect(payloadOf(body).items.map((i: { sku: string }) => i.sku)).toEqual(['93', '23']);
    });

    it('refuses a quantity that is not a positive integer', () => {
      const body = sample();
      body.line_items[0].quantity = 0;
      const e = violation(() => events(body));
      expect(e.errors[0]).toEqual(expect.objectContaining({ field: 'line_items.0.quantity' }));
    });
  });

  describe('addresses, dates and attribution', () => {
    it('falls back to the billing address when nothing is shipped', () => {
      const body = sample();
      body.shipping = { first_name: '', last_name: '', address_1: '', city: '', postcode: '', country: '' };
      Object.assign(body.billing, {
        address_1: 'Nevsky 28',
        city: 'Saint Petersburg',
        state: '',
        postcode: '',
      });
      Object.assign(body.billing, { country: 'RU' });
      expect(payloadOf(body).deliveryAddress).toBe('Nevsky 28, Saint Petersburg, RU');
    });

    it('omits the address and paidAt when WooCommerce has none', () => {
      const body = sample();
      body.shipping = {};
      body.billing = { email: 'a@example.com' };
      body.date_paid_gmt = null;
      const payload = payloadOf(body);
      expect(payload).not.toHaveProperty('deliveryAddress');
      expect(payload).not.toHaveProperty('paidAt');
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it('refuses a missing or impossible creation time', () => {
      const missing = sample();
      delete missing.date_created_gmt;
      expect(violation(() => events(missing)).errors[0].field).toBe('date_created_gmt');
      const impossible = violation(() => events({ ...sample(), date_created_gmt: '2017-02-30T10:00:00' }));
      expect(impossible.errors[0]).toEqual(
        expect.objectContaining({ field: 'date_created_gmt', rule: 'isTimestamp' }),
      );
    });

    it('maps WooCommerce order attribution to utm', () => {
      const body = sample();
      body.meta_data.push(
        { id: 1, key: '_wc_order_attribution_source_type', value: 'utm' },
        { id: 2, key: '_wc_order_attribution_utm_source', value: 'yandex' },
        { id: 3, key: '_wc_order_attribution_utm_medium', value: 'cpc' },
        { id: 4, key: '_wc_order_attribution_utm_campaign', value: 'осень' },
        { id: 5, key: '_wc_order_attribution_utm_content', value: '' },
      );
      const payload = payloadOf(body);
      expect(payload.utm).toEqual({ source: 'yandex', medium: 'cpc', campaign: 'осень' });
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it('does not send the customer note: the contract has no field for it', () => {
      const payload = payloadOf({ ...sample(), customer_note: 'Call before delivery' });
      expect(JSON.stringify(payload)).not.toContain('Call before delivery');
    });
  });

  describe('robustness', () => {
    it('ignores fields the provider adds later, at any depth', () => {
      const body = sample();
      body.fulfillment_promise = { eta: '2030-01-01' };
      body.billing.vat_number = 'DE123';
      body.line_items[0].bundle = { parent: 1 };
      const payload = payloadOf(body);
      expect(payload).toEqual(payloadOf(sample()));
      expect(() => validateContract(OrderSubmittedV1, payload)).not.toThrow();
    });

    it.each([[[]], ['order'], [null], [42]])('refuses a non-object body %p', (body) => {
      const e = violation(() => events(body));
      expect(e.errors).toEqual([expect.objectContaining({ field: '', rule: 'isObject' })]);
    });

    it('refuses a body without an order id', () => {
      const body = sample();
      delete body.id;
      expect(violation(() => events(body)).errors[0].field).toBe('id');
    });
  });
});

describe('decodeEntities', () => {
  it('decodes what WordPress escapes, once', () => {
    expect(decodeEntities('Tea &amp; Cake &ndash; 50&#37; off &#x2014; &quot;new&quot;')).toBe(
      'Tea & Cake \u2013 50% off \u2014 "new"',
    );
    expect(decodeEntities('&amp;ndash;')).toBe('&ndash;');
  });

  it('keeps unknown names and non-characters as written', () => {
    expect(decodeEntities('&bogus; &#0; &#xD800;')).toBe('&bogus; &#0; &#xD800;');
  });
});
