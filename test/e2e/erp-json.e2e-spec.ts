import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, order, ROOT, TestSystem } from './support/system';

/**
 * ERP facts in JSON and UBL: stock and prices (batches, versions, out of order), invoices linked to the deal and
 * contact, payment marks the deal paid; bad input is refused whole with problem+json and a code.
 */
describe('erp: JSON stock, prices and invoices; UBL invoices', () => {
  const sys = new TestSystem('erp-json');
  let token = '';

  beforeAll(async () => {
    await sys.start(['gateway', 'website-connector', 'erp-connector', 'console']);
    const res = await sys.consoleCall('POST', '/v1/admin/peers', {
      id: 'erp-json',
      name: 'ERP (JSON)',
      kind: 'erp',
      scopes: ['erp.*'],
    });
    expect(res.status).toBe(201);
    token = res.body.credential.token;
    // The gateway learns of the new credential by LISTEN/NOTIFY; under load that can take a moment (few
    // tries, far apart: failures count towards the peer's lockout).
    const known = await eventually(async () => (await send('/v1/erp/stock', {})).status !== 401, 5_000, 600);
    expect(known).toBe(true);
  });
  afterAll(() => sys.destroy());

  const send = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    sys.post(path, body, { authorization: `Bearer ${token}`, ...headers });

  it('keeps the newest stock per product whatever the order, per warehouse and in total', async () => {
    const stock = (version: number, total: number) => ({
      productExternalId: 'P-1',
      total,
      warehouses: [
        { warehouseId: 'W1', warehouseName: 'Main', quantity: total - 1 },
        { warehouseId: 'W2', quantity: 1 },
      ],
      version,
    });
    const res = await send('/v1/erp/stock', [stock(3, 30), stock(1, 10)]);
    expect(res.status).toBe(202);
    expect((await res.json()).eventIds).toHaveLength(2);
    expect((await send('/v1/erp/stock', stock(2, 20))).status).toBe(202);
    const rows = await eventually(async () => {
      const r = await sys.sql<{ total: string; version: string }>(
        `SELECT total, version FROM product_stock WHERE product_external_id = 'P-1'`,
      );
      const processed = await sys.sql(
        `SELECT 1 FROM processed_events WHERE event_type = 'erp.stock.updated'`,
      );
      return processed.length === 3 ? r : null;
    });
    expect(rows).toEqual([{ total: '30.000', version: '3' }]);
    const levels = await sys.sql(
      `SELECT warehouse_id, quantity FROM stock_levels WHERE product_external_id = 'P-1' ORDER BY 1`,
    );
    expect(levels).toEqual([
      { warehouse_id: 'W1', quantity: '29.000' },
      { warehouse_id: 'W2', quantity: '1.000' },
    ]);
  });

  it('refuses a batch with one bad item whole: problem+json with a code, nothing published', async () => {
    const good = {
      productExternalId: 'P-2',
      prices: [{ priceType: 'retail', currency: 'RUB', value: 10 }],
      version: 1,
    };
    const bad = {
      productExternalId: 'P-3',
      prices: [{ priceType: 'retail', currency: 'руб', value: 1.00001 }],
      version: 1,
    };
    const res = await send('/v1/erp/prices', [good, bad]);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = await res.json();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['1.prices.0.currency', '1.prices.0.value']),
    );
    const xml = await send(
      '/v1/erp/invoices',
      '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><Invoice/>',
      {
        'content-type': 'application/xml',
      },
    );
    expect(xml.status).toBe(400);
    expect((await xml.json()).code).toBe('XML_UNSAFE');
    const broken = await send('/v1/erp/invoices', '<Invoice><ID>1</Invoice>', {
      'content-type': 'application/xml',
    });
    expect((await broken.json()).detail).toMatch(/line 1, column \d+/);
    // The good item of the refused batch was never published: a later good price is the only one.
    expect((await send('/v1/erp/prices', { ...good, version: 2 })).status).toBe(202);
    await eventually(
      async () => (await sys.sql(`SELECT 1 FROM product_prices WHERE product_external_id = 'P-2'`)).length,
    );
    const seen = await sys.sql(
      `SELECT idempotency_key FROM processed_events WHERE event_type = 'erp.price.updated'`,
    );
    expect(seen).toEqual([{ idempotency_key: 'price:P-2@2' }]);
  });

  it('links a PEPPOL and a JSON invoice to the deal and contact; paying marks the deal paid', async () => {
    const o = order();
    const deal = await sys.placeOrder(o);
    const customer = o.customer as { phone: string; email: string };
    const ubl = readFileSync(join(ROOT, 'test/fixtures/erp/peppol-invoice.xml'), 'utf8')
      .replace('ORDER-REF-PLACEHOLDER', String(o.externalId))
      .replace('BUYER-PHONE-PLACEHOLDER', customer.phone);
    const res = await send('/v1/erp/invoices', ubl, { 'content-type': 'application/xml' });
    expect(res.status).toBe(202);

    const json = {
      number: 'JS-1',
      kind: 'invoice',
      status: 'issued',
      issueDate: '2026-11-21',
      currency: 'RUB',
      dealExternalId: o.externalId,
      seller: { name: 'Us' },
      buyer: { email: customer.email },
      lines: [{ sku: 'SKU-1', name: 'Thing', quantity: 2, price: 50, amount: 100 }],
      taxTotal: 0,
      total: 100,
      version: 1,
    };
    expect((await send('/v1/erp/invoices', json)).status).toBe(202);
    const invoices = await eventually(async () => {
      const r = await sys.sql<{ number: string; deal_id: string; contact_id: string; status: string }>(
        `SELECT number, deal_id, contact_id, status FROM invoices ORDER BY number`,
      );
      return r.length === 2 ? r : null;
    });
    expect(invoices).toEqual([
      { number: 'INV-SB-0001', deal_id: deal.id, contact_id: deal.contact_id, status: 'issued' },
      { number: 'JS-1', deal_id: deal.id, contact_id: deal.contact_id, status: 'issued' },
    ]);
    const lines = await sys.sql(
      `SELECT l.quantity, l.unit_code FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
        WHERE i.number = 'INV-SB-0001' ORDER BY position`,
    );
    expect(lines).toEqual([
      { quantity: '10.0000', unit_code: 'C62' },
      { quantity: '-1.0000', unit_code: 'H87' },
    ]);

    expect(
      (
        await send('/v1/erp/invoices', {
          ...json,
          status: 'paid',
          paidAt: '2026-11-22T10:00:00Z',
          version: 2,
        })
      ).status,
    ).toBe(202);
    const paid = await eventually(async () => {
      const [d] = await sys.sql<{ status: string; paid_at: Date | null }>(
        `SELECT status, paid_at FROM deals WHERE id = $1`,
        [deal.id],
      );
      return d.paid_at ? d : null;
    });
    expect(paid?.status).toBe('paid');
    const [inv] = await sys.sql(`SELECT status FROM invoices WHERE number = 'JS-1'`);
    expect(inv).toEqual({ status: 'paid' });
    const onDeal = await sys.consoleGet(`/v1/crm/deals/${deal.id}/invoices`);
    expect(onDeal.body.items.map((i: { number: string }) => i.number).sort()).toEqual([
      'INV-SB-0001',
      'JS-1',
    ]);
    const paidOnes = await sys.consoleGet(`/v1/crm/invoices?contactId=${deal.contact_id}&status=paid`);
    expect(paidOnes.body.items).toEqual([
      expect.objectContaining({
        number: 'JS-1',
        total: 100,
        lines: [expect.objectContaining({ sku: 'SKU-1', quantity: 2 })],
      }),
    ]);
    expect((await sys.consoleGet('/v1/crm/invoices?status=lost')).status).toBe(400);
  });

  it("links an invoice by our deal id as well as by the site's order id", async () => {
    const deal = await sys.placeOrder(order());
    const invoice = {
      number: 'JS-OWN-ID',
      kind: 'invoice',
      status: 'issued',
      issueDate: '2026-11-21',
      currency: 'RUB',
      dealExternalId: deal.id,
      seller: { name: 'Us' },
      buyer: { email: 'buyer@example.com' },
      lines: [{ sku: 'SKU-1', name: 'Thing', quantity: 1, price: 10, amount: 10 }],
      taxTotal: 0,
      total: 10,
      version: 1,
    };
    expect((await send('/v1/erp/invoices', invoice)).status).toBe(202);
    const [linked] = await eventually(async () => {
      const r = await sys.sql<{ deal_id: string | null }>(
        `SELECT deal_id FROM invoices WHERE number = 'JS-OWN-ID'`,
      );
      return r.length === 1 ? r : null;
    });
    expect(linked.deal_id).toBe(deal.id);
  });
});
