import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XmlStream, type XmlNode } from '../xml';
import {
  CatalogMapper,
  captureOrderDocuments,
  cmlDate,
  cmlNumber,
  currencyCode,
  orderStatusEvent,
  type CmlEvent,
} from './commerceml';

const FIX = join(__dirname, '../../../../../test/fixtures/erp/1c');

function read(
  file: string,
  capture: (p: readonly string[]) => boolean,
  onNode: (n: XmlNode) => void,
  mapper?: CatalogMapper,
) {
  const s = new XmlStream(capture, onNode, mapper ? (n, a) => mapper.onOpen(n, a) : undefined);
  const bytes = readFileSync(join(FIX, file));
  for (let i = 0; i < bytes.length; i += 4096) s.write(bytes.subarray(i, i + 4096));
  s.end();
}

describe('CommerceML mapping', () => {
  it('reads the demo catalog (UTF-8 with BOM): group path, dictionary property values, unit, full upload', () => {
    const m = new CatalogMapper(7);
    const events: CmlEvent[] = [];
    read('import.carono.xml', CatalogMapper.capture, (n) => events.push(...m.onNode(n)), m);
    expect(events).toHaveLength(2);
    expect(events[0].payload).toMatchObject({
      externalId: 'bd72d910-55bc-11d9-848a-00112f43529a',
      sku: 'Б-130001',
      barcode: '2000018987155',
      active: true,
      version: 7,
    });
    expect((events[0].payload.groupPath as string[]).length).toBeGreaterThan(0);
    expect(events[0].payload.properties).toEqual(
      expect.arrayContaining([{ name: 'Производитель', value: 'Обувной комбинат' }]),
    );
    expect(events[1].payload.sku).toBe('Б- 130005');
    expect(m.hasCatalog && m.changesOnly !== true).toBe(true);
  });

  it('reads offers: prices with price type names, stock per warehouse with names', () => {
    const m = new CatalogMapper(1);
    const events: CmlEvent[] = [];
    read('offers.carono.xml', CatalogMapper.capture, (n) => events.push(...m.onNode(n)), m);
    expect(m.changesOnly).toBe(false);
    const price = events.find((e) => e.type === 'erp.price.updated')!;
    expect(price.payload).toEqual({
      productExternalId: 'bd72d910-55bc-11d9-848a-00112f43529a#90c55447-d3a8-11e4-9423-e0cb4ed5eed4',
      prices: [
        {
          priceType: 'bb14a3a4-6b17-11e0-9819-e0cb4ed5eed4',
          priceTypeName: 'Розничная',
          currency: 'RUB',
          value: 1719,
        },
      ],
      version: 1,
    });
    const stock = events.find((e) => e.type === 'erp.stock.updated')!;
    expect(stock.payload).toMatchObject({
      total: 20,
      warehouses: [{ quantity: 20, warehouseName: 'Магазин "Обувь"' }],
    });
  });

  it("maps 1C's order documents (windows-1251 and UT 11) to order states", () => {
    const docs: CmlEvent[] = [];
    read('orders.to-site.cp1251.xml', captureOrderDocuments, (n) => docs.push(orderStatusEvent(n, 5)));
    expect(docs[0].payload).toMatchObject({
      status: 'delivered',
      paidAt: '2007-10-16T15:44:47Z',
      version: 5,
    });
    const ut: CmlEvent[] = [];
    read('orders.from-1c.ut11.xml', captureOrderDocuments, (n) => ut.push(orderStatusEvent(n, 5)));
    expect(ut[0].payload).toMatchObject({ orderId: '142', erpNumber: 'ТДЦУ-000001' });
  });

  it('normalizes 1C values', () => {
    expect(currencyCode('руб')).toBe('RUB');
    expect(currencyCode('USD')).toBe('USD');
    expect(cmlNumber('1 719,50')).toBe(1719.5);
    expect(cmlNumber('231.7400')).toBe(231.74);
    expect(cmlNumber('abc')).toBeNaN();
    expect(cmlDate('16.10.2007 15:44:47')).toBe('2007-10-16T15:44:47Z');
    expect(cmlDate('0001-01-01T00:00:00')).toBeUndefined();
  });
});
