import { countBodyValues, MAX_BODY_VALUES } from '@switchboard/contracts/core';

/**
 * The facts of one erp.catalog.batch body, by kind, each as its JSON: a fact is serialized once, when it is
 * added, so its objects die young instead of waiting (and being promoted by the GC) until the batch closes.
 */
export interface CatalogBatchFacts {
  products: string[];
  prices: string[];
  stock: string[];
}

/** Keys of the batch body itself: batchId, products, prices, stock. */
const BATCH_KEYS = 4;

/** The body's JSON: exactly JSON.stringify({ batchId, products, prices, stock }) of the facts as objects. */
export function catalogBatchJson(batchId: string, facts: CatalogBatchFacts): string {
  return (
    `{"batchId":${JSON.stringify(batchId)},"products":[${facts.products.join(',')}],` +
    `"prices":[${facts.prices.join(',')}],"stock":[${facts.stock.join(',')}]}`
  );
}

/**
 * Packs validated catalog facts into erp.catalog.batch bodies of at most `maxFacts` facts and at most
 * `maxValues` fields and array elements in all (the receiver's MAX_BODY_VALUES cap: 500 products of 15
 * properties each went over it, and the connector refused — dead-lettered — the whole batch). Facts keep
 * their order within a kind.
 */
export class CatalogBatcher {
  private facts: CatalogBatchFacts = { products: [], prices: [], stock: [] };
  private size = 0;
  private values = BATCH_KEYS;

  constructor(
    private readonly emit: (facts: CatalogBatchFacts) => void,
    private readonly maxFacts: number,
    private readonly maxValues = MAX_BODY_VALUES,
  ) {}

  add(kind: keyof CatalogBatchFacts, fact: object): void {
    // The fact's own values and its element in the kind's array.
    const values = countBodyValues(fact) + 1;
    if (this.size > 0 && this.values + values > this.maxValues) this.flush();
    this.facts[kind].push(JSON.stringify(fact));
    this.values += values;
    if (++this.size >= this.maxFacts) this.flush();
  }

  flush(): void {
    if (this.size === 0) return;
    const facts = this.facts;
    this.facts = { products: [], prices: [], stock: [] };
    this.size = 0;
    this.values = BATCH_KEYS;
    this.emit(facts);
  }
}
