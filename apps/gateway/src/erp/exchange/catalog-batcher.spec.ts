import {
  CatalogBatchV1,
  ContractViolation,
  countBodyValues,
  MAX_BODY_VALUES,
  validateContract,
} from '@switchboard/contracts';
import { catalogBatchJson, CatalogBatcher, type CatalogBatchFacts } from './catalog-batcher';

const product = (i: number, properties: number) => ({
  externalId: `p-${i}`,
  name: `Товар ${i}`,
  groupPath: ['Бытовая техника', 'Чайники'],
  properties: Array.from({ length: properties }, (_, k) => ({ name: `Свойство ${k}`, value: `${k}` })),
  active: true,
  version: 1,
});
const price = (i: number) => ({
  productExternalId: `p-${i}`,
  prices: [{ priceType: 'retail', currency: 'RUB', value: 10.5 }],
  version: 1,
});

interface Body {
  batchId: string;
  products: object[];
  prices: object[];
  stock: object[];
}

/** The bodies as the connector reads them (JSON.parse of each batch's JSON). */
function batches(maxFacts: number, add: (b: CatalogBatcher) => void): Body[] {
  const out: Body[] = [];
  const batcher = new CatalogBatcher(
    (facts) => out.push(JSON.parse(catalogBatchJson(`b:${out.length}`, facts)) as Body),
    maxFacts,
  );
  add(batcher);
  batcher.flush();
  return out;
}

describe('CatalogBatcher', () => {
  it('closes a batch at maxFacts facts, keeping every fact in order', () => {
    const out = batches(500, (b) => {
      for (let i = 0; i < 1200; i++) b.add(i % 2 ? 'prices' : 'products', i % 2 ? price(i) : product(i, 1));
    });
    expect(out.map((f) => f.products.length + f.prices.length + f.stock.length)).toEqual([500, 500, 200]);
    const ids = out.flatMap((f) => [
      ...f.products.map((p) => (p as { externalId: string }).externalId),
      ...f.prices.map((p) => (p as { productExternalId: string }).productExternalId),
    ]);
    expect(ids.sort()).toEqual(Array.from({ length: 1200 }, (_, i) => `p-${i}`).sort());
  });

  it('keeps each batch under the receiver cap on values: property-rich products are not dead-lettered', () => {
    const facts = Array.from({ length: 1000 }, (_, i) => product(i, 15));
    // What the exchange sent before: 500 such products in one body, which the connector refuses whole.
    expect(() =>
      validateContract(CatalogBatchV1, {
        batchId: 'b',
        products: facts.slice(0, 500),
        prices: [],
        stock: [],
      }),
    ).toThrow(ContractViolation);
    const out = batches(500, (b) => facts.forEach((f) => b.add('products', f)));
    expect(out.length).toBeGreaterThan(2);
    out.forEach((body) => {
      expect(countBodyValues(body)).toBeLessThanOrEqual(MAX_BODY_VALUES);
      expect(() => validateContract(CatalogBatchV1, body)).not.toThrow();
    });
    expect(out.reduce((n, f) => n + f.products.length, 0)).toBe(1000);
  });

  it('serializes a batch exactly as JSON.stringify of the body with its facts as objects', () => {
    const facts = [product(1, 2), product(2, 0)];
    const prices = [price(1), price(2), price(3)];
    const kept: CatalogBatchFacts[] = [];
    const batcher = new CatalogBatcher((f) => kept.push(f), 10);
    facts.forEach((f) => batcher.add('products', f));
    prices.forEach((p) => batcher.add('prices', p));
    batcher.flush();
    expect(catalogBatchJson('1c-7:"3"', kept[0])).toBe(
      JSON.stringify({ batchId: '1c-7:"3"', products: facts, prices, stock: [] }),
    );
    expect(catalogBatchJson('e', { products: [], prices: [], stock: [] })).toBe(
      JSON.stringify({ batchId: 'e', products: [], prices: [], stock: [] }),
    );
  });

  it('counts values as the receiver does: a body at the cap is not refused for its size, one more is', () => {
    const rules = (body: object) => {
      try {
        validateContract(CatalogBatchV1, body);
        return [];
      } catch (err) {
        return (err as ContractViolation).errors.map((e) => e.rule);
      }
    };
    // { a: [[n, n, ...]] }: the key a, one element, and the inner elements.
    const body = (inner: number) => ({ a: [Array.from({ length: inner }, () => 0)] });
    expect(countBodyValues(body(10))).toBe(12);
    expect(rules(body(MAX_BODY_VALUES - 2))).not.toContain('maxValues');
    expect(rules(body(MAX_BODY_VALUES - 1))).toContain('maxValues');
  });
});
