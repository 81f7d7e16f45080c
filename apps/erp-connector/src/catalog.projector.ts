import { Injectable, Logger } from '@nestjs/common';
import {
  CatalogBatchV1,
  CONTRACTS,
  ERP_EVENT_TYPES,
  EventEnvelope,
  PriceUpdatedV1,
  ProductUpsertedV1,
  StockUpdatedV1,
  validateContract,
  type EventType,
} from '@switchboard/contracts';
import {
  ProductRepository,
  type PriceRow,
  type ProductRow,
  type StockRow,
  type WriteOutcome,
} from '@switchboard/crm';
import { BatchingInbox, BatchItem, Inbox } from '@switchboard/database';
import { Slots } from '@switchboard/messaging';
import { EntityManager } from 'typeorm';

export const CATALOG_CONSUMER = 'erp-connector';
/** Catalog batches applied concurrently: two keep PostgreSQL busy while the next one is parsed and validated. */
const CATALOG_BATCHES_AT_ONCE = 2;

type CatalogFact =
  | {
      type: typeof ERP_EVENT_TYPES.productUpserted;
      peerId: string;
      key: string;
      version: number;
      p: ProductUpsertedV1;
    }
  | {
      type: typeof ERP_EVENT_TYPES.priceUpdated;
      peerId: string;
      key: string;
      version: number;
      p: PriceUpdatedV1;
    }
  | {
      type: typeof ERP_EVENT_TYPES.stockUpdated;
      peerId: string;
      key: string;
      version: number;
      p: StockUpdatedV1;
    };

type Item = Pick<BatchItem<{ outcome: WriteOutcome }, CatalogFact>, 'envelope'> & { data: CatalogFact };

/** A product fact as the row ProductRepository writes (also used by test/bench/erp-cpu.mjs). */
export function productRow(peerId: string, p: ProductUpsertedV1): ProductRow {
  return {
    peerId,
    externalId: p.externalId,
    sku: p.sku ?? null,
    name: p.name,
    groupPath: p.groupPath,
    unit: p.unit ?? null,
    barcode: p.barcode ?? null,
    // Validated: each property is exactly { name, value } (unknown fields are refused), so no copy.
    properties: p.properties,
    active: p.active,
    version: p.version,
  };
}

/** A product's price fact as its price rows, under the fact's key. */
export function priceSet(
  peerId: string,
  key: string,
  p: PriceUpdatedV1,
): { key: string; prices: PriceRow[] } {
  return {
    key,
    prices: p.prices.map((x) => ({
      peerId,
      productExternalId: p.productExternalId,
      priceType: x.priceType,
      priceTypeName: x.priceTypeName ?? null,
      currency: x.currency,
      value: x.value,
      unit: x.unit ?? null,
      version: p.version,
    })),
  };
}

/** A stock fact as the row ProductRepository writes. */
export function stockRow(peerId: string, s: StockUpdatedV1): StockRow {
  return {
    peerId,
    productExternalId: s.productExternalId,
    total: s.total,
    warehouses: s.warehouses.map((w) => ({
      warehouseId: w.warehouseId,
      warehouseName: w.warehouseName ?? null,
      quantity: w.quantity,
    })),
    version: s.version,
  };
}

/**
 * erp.product.upserted / price.updated / stock.updated -> products, product_prices, product_stock + stock_levels.
 * A batch is applied set-based: one statement per kind. Versions decide (ProductRepository), so of several
 * states of one product in a batch only the newest is written, and the others are stale, exactly as if they
 * had come one by one in any order.
 */
@Injectable()
export class CatalogProjector {
  private readonly logger = new Logger('CatalogProjector');
  private readonly batchSlots = new Slots(CATALOG_BATCHES_AT_ONCE);

  constructor(
    private readonly inbox: BatchingInbox,
    private readonly single: Inbox,
    private readonly products: ProductRepository,
  ) {
    inbox.configure<{ outcome: WriteOutcome }, CatalogFact>(CATALOG_CONSUMER, {
      maxBatch: 500,
      batchEffects: (em, items) => this.projectBatch(em, items as Item[]),
    });
  }

  async apply(envelope: EventEnvelope): Promise<string> {
    const type = envelope.type as EventType;
    // Re-validate: the broker accepts anything; a bad payload dead-letters instead of half-applying.
    const payload = validateContract(CONTRACTS[type].dto, envelope.payload) as never;
    const data = fact(type, envelope.peerId, payload);
    const outcome = await this.inbox.submit<{ outcome: WriteOutcome }, CatalogFact>(CATALOG_CONSUMER, {
      envelope,
      data,
      lockKeys: [`erp:${data.type}:${data.key}`],
      effects: async (em) => (await this.projectBatch(em, [{ envelope, data }]))[0],
    });
    const result = outcome.duplicate ? 'duplicate' : outcome.result.outcome;
    this.logger.debug(`${type} ${data.key}: ${result}`);
    return result;
  }

  /**
   * erp.catalog.batch: its facts in one transaction, with the same set-based statements as a batch of events.
   * At most CATALOG_BATCHES_AT_ONCE run at a time: the rest wait here rather than for a pool connection, whose
   * 5 s timeout would read as a database outage when a 100,000-offer upload fills the prefetch window.
   */
  async applyBatch(envelope: EventEnvelope): Promise<string> {
    await this.batchSlots.acquire();
    try {
      return await this.applyBatchNow(envelope);
    } finally {
      this.batchSlots.release();
    }
  }

  /**
   * Resolves when every catalog batch this process received before the call is applied (or failed): their
   * slots are taken in the order the broker delivered them, so waiting for all of them to be free again is a
   * barrier. A full upload's erp.catalog.completed comes after its batches on the queue and waits here instead
   * of finding them still in the prefetch window and going round the retry ladder (1 s, then 10 s).
   */
  afterBatchesReceived(): Promise<void> {
    return this.batchSlots.drained();
  }

  private async applyBatchNow(envelope: EventEnvelope): Promise<string> {
    const batch = parseCatalogBatch(envelope.payload);
    const outcome = await this.single.process(CATALOG_CONSUMER, envelope, async (em) => {
      const written = await projectCatalogBatch(em, this.products, envelope.peerId, batch);
      return { outcome: written > 0 ? 'updated' : 'stale' };
    });
    return outcome.duplicate ? 'duplicate' : outcome.result.outcome;
  }

  async projectBatch(em: EntityManager, items: Item[]): Promise<Array<{ outcome: WriteOutcome }>> {
    const out: WriteOutcome[] = items.map(() => 'stale');
    for (const type of [
      ERP_EVENT_TYPES.productUpserted,
      ERP_EVENT_TYPES.priceUpdated,
      ERP_EVENT_TYPES.stockUpdated,
    ]) {
      // The newest state per key of this kind; the rest of the batch's states of that key are stale.
      const newest = new Map<string, number>();
      items.forEach((it, i) => {
        if (it.data.type !== type) return;
        const prev = newest.get(it.data.key);
        if (prev === undefined || items[prev].data.version < it.data.version) newest.set(it.data.key, i);
      });
      const idx = [...newest.values()];
      if (idx.length === 0) continue;
      const facts = idx.map((i) => items[i].data);
      let written: WriteOutcome[];
      if (type === ERP_EVENT_TYPES.productUpserted) {
        written = await this.products.upsertProducts(
          em,
          facts.map((f) => productRow(f.peerId, f.p as ProductUpsertedV1)),
        );
      } else if (type === ERP_EVENT_TYPES.priceUpdated) {
        written = await this.products.upsertPrices(
          em,
          facts.map((f) => priceSet(f.peerId, f.key, f.p as PriceUpdatedV1)),
        );
      } else {
        written = await this.products.upsertStock(
          em,
          facts.map((f) => stockRow(f.peerId, f.p as StockUpdatedV1)),
        );
      }
      idx.forEach((i, k) => (out[i] = written[k]));
    }
    return out.map((outcome) => ({ outcome }));
  }
}

/**
 * An erp.catalog.batch payload, validated once against CatalogBatchV1 (every fact against its own contract, a
 * bad one named by its path, e.g. `prices.17.prices.0.currency`, and the whole batch refused).
 */
export function parseCatalogBatch(payload: unknown): CatalogBatchV1 {
  return validateContract(CatalogBatchV1, payload);
}

/**
 * A validated batch's facts applied with one statement per kind (products, prices, stock): of several states of
 * one product in the batch only the newest is offered (the versions in the statements decide against the
 * table), each kind's rows in product order, so two batches touching the same products lock them in the same
 * order. Answers how many products had a row written. Also used by test/bench/erp-cpu.mjs.
 */
export async function projectCatalogBatch(
  em: EntityManager,
  products: ProductRepository,
  peerId: string,
  batch: CatalogBatchV1,
): Promise<number> {
  let written = 0;
  const count = (outcomes: WriteOutcome[]) => {
    for (const o of outcomes) if (o !== 'stale') written++;
  };
  const productFacts = newestByProduct(batch.products, (p) => p.externalId);
  if (productFacts.length > 0)
    count(
      await products.upsertProducts(
        em,
        productFacts.map((p) => productRow(peerId, p)),
      ),
    );
  const priceFacts = newestByProduct(batch.prices, (p) => p.productExternalId);
  if (priceFacts.length > 0)
    count(
      await products.upsertPrices(
        em,
        priceFacts.map((p) => priceSet(peerId, `${peerId}:${p.productExternalId}`, p)),
      ),
    );
  const stockFacts = newestByProduct(batch.stock, (s) => s.productExternalId);
  if (stockFacts.length > 0)
    count(
      await products.upsertStock(
        em,
        stockFacts.map((s) => stockRow(peerId, s)),
      ),
    );
  return written;
}

/** The newest fact per product (the first of equal versions), ordered by the product's id. */
function newestByProduct<T extends { version: number }>(facts: T[], id: (fact: T) => string): T[] {
  const newest = new Map<string, T>();
  for (const f of facts) {
    const key = id(f);
    const prev = newest.get(key);
    if (prev === undefined || prev.version < f.version) newest.set(key, f);
  }
  const ids = [...newest.keys()].sort();
  return ids.map((key) => newest.get(key)!);
}

/** The key (peer + product) a fact is about, and its version. */
export function fact(type: EventType, peerId: string, p: never): CatalogFact {
  switch (type) {
    case ERP_EVENT_TYPES.productUpserted: {
      const v = p as ProductUpsertedV1;
      return { type, peerId, key: `${peerId}:${v.externalId}`, version: v.version, p: v };
    }
    case ERP_EVENT_TYPES.priceUpdated: {
      const v = p as PriceUpdatedV1;
      return { type, peerId, key: `${peerId}:${v.productExternalId}`, version: v.version, p: v };
    }
    case ERP_EVENT_TYPES.stockUpdated: {
      const v = p as StockUpdatedV1;
      return { type, peerId, key: `${peerId}:${v.productExternalId}`, version: v.version, p: v };
    }
    default:
      throw new Error(`not a catalog fact: ${type}`);
  }
}
