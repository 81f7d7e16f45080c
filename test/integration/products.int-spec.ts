import { ProductRepository } from '@switchboard/crm';
import { useIntegrationDb } from './support/db';

const db = useIntegrationDb();
const products = new ProductRepository();

/** Text PostgreSQL's array literal must carry as sent: quotes, backslashes, braces, commas, the word NULL. */
const AWKWARD = ['Чайник "Ромашка"', 'C:\\1C\\base', '{a,b}', 'NULL', ' padded ', 'a\\"b'];

describe('products, prices and stock SQL (set-based, version-guarded)', () => {
  it('stores awkward text and nulls exactly, and an older version never overwrites a newer one', async () => {
    const em = db().manager;
    const rows = AWKWARD.map((name, i) => ({
      peerId: 'erp-int',
      externalId: `p-${i}`,
      sku: i % 2 ? null : name,
      name,
      groupPath: [name, 'Группа'],
      unit: i % 3 ? 'шт' : null,
      barcode: null,
      properties: [{ name: 'Цвет', value: name }],
      active: true,
      version: 2,
    }));
    expect(await products.upsertProducts(em, rows)).toEqual(rows.map(() => 'created'));
    const stored: Array<{ external_id: string; sku: string | null; name: string; group_path: string[] }> =
      await em.query(
        `SELECT external_id, sku, name, group_path, properties FROM products WHERE peer_id = 'erp-int'
          ORDER BY external_id`,
      );
    expect(stored).toEqual(
      rows.map((r) => ({
        external_id: r.externalId,
        sku: r.sku,
        name: r.name,
        group_path: r.groupPath,
        properties: r.properties,
      })),
    );
    const older = rows.map((r) => ({ ...r, name: 'old', version: 1 }));
    expect(await products.upsertProducts(em, older)).toEqual(rows.map(() => 'stale'));
    const [{ n }]: Array<{ n: string }> = await em.query(
      `SELECT count(*) AS n FROM products WHERE peer_id = 'erp-int' AND name = 'old'`,
    );
    expect(Number(n)).toBe(0);

    const prices = await products.upsertPrices(
      em,
      AWKWARD.map((name, i) => ({
        key: `erp-int:p-${i}`,
        prices: [
          {
            peerId: 'erp-int',
            productExternalId: `p-${i}`,
            priceType: name,
            priceTypeName: i % 2 ? null : name,
            currency: 'RUB',
            value: 1234.5678 + i,
            unit: null,
            version: 2,
          },
        ],
      })),
    );
    expect(prices).toEqual(AWKWARD.map(() => 'created'));
    const priceRows: Array<{ price_type: string; value: string }> = await em.query(
      `SELECT price_type, value FROM product_prices WHERE peer_id = 'erp-int' ORDER BY product_external_id`,
    );
    expect(priceRows).toEqual(
      AWKWARD.map((name, i) => ({ price_type: name, value: (1234.5678 + i).toFixed(4) })),
    );

    const stock = (version: number, quantity: number) =>
      AWKWARD.map((name, i) => ({
        peerId: 'erp-int',
        productExternalId: `p-${i}`,
        total: quantity * 2,
        warehouses: [
          { warehouseId: name, warehouseName: null, quantity },
          { warehouseId: 'w2', warehouseName: name, quantity },
        ],
        version,
      }));
    expect(await products.upsertStock(em, stock(2, 1.5))).toEqual(AWKWARD.map(() => 'created'));
    expect(await products.upsertStock(em, stock(3, 2))).toEqual(AWKWARD.map(() => 'updated'));
    expect(await products.upsertStock(em, stock(1, 9))).toEqual(AWKWARD.map(() => 'stale'));
    const levels: Array<{ warehouse_id: string; quantity: string }> = await em.query(
      `SELECT warehouse_id, quantity FROM stock_levels WHERE peer_id = 'erp-int' AND product_external_id = 'p-0'
        ORDER BY warehouse_id`,
    );
    expect(levels).toEqual(
      [AWKWARD[0], 'w2'].sort().map((warehouse_id) => ({ warehouse_id, quantity: '2.000' })),
    );
  });
});
