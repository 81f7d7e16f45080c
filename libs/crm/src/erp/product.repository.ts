import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { preparedQuery } from '../repositories/prepared-query';

export interface ProductRow {
  peerId: string;
  externalId: string;
  sku: string | null;
  name: string;
  groupPath: string[];
  unit: string | null;
  barcode: string | null;
  properties: Array<{ name: string; value: string }>;
  active: boolean;
  version: number;
}

export interface PriceRow {
  peerId: string;
  productExternalId: string;
  priceType: string;
  priceTypeName: string | null;
  currency: string;
  value: number;
  unit: string | null;
  version: number;
}

export interface StockRow {
  peerId: string;
  productExternalId: string;
  total: number;
  warehouses: Array<{ warehouseId: string; warehouseName: string | null; quantity: number }>;
  version: number;
}

/** Written = the row took this version (new or newer); stale = a newer or equal version was there. */
export type WriteOutcome = 'created' | 'updated' | 'stale';

/**
 * Products, prices and stock: every write is one set-based statement guarded by the ERP's version, so any
 * order of delivery ends in the newest state, and re-applying a state changes no data (updated_at moves only
 * when a value changed). Rows are keyed by (peer, external id); the caller passes one row per key.
 */
const UPSERT_PRODUCTS = `
INSERT INTO products AS p (peer_id, external_id, sku, name, group_path, unit, barcode, properties, active, version)
SELECT peer_id, external_id, sku, name, group_path::text[], unit, barcode,
       properties, active, version
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[],
              $9::boolean[], $10::bigint[])
    AS x(peer_id, external_id, sku, name, group_path, unit, barcode, properties, active, version)
ON CONFLICT (peer_id, external_id) DO UPDATE SET
  sku = EXCLUDED.sku, name = EXCLUDED.name, group_path = EXCLUDED.group_path, unit = EXCLUDED.unit,
  barcode = EXCLUDED.barcode, properties = EXCLUDED.properties, active = EXCLUDED.active,
  version = EXCLUDED.version,
  updated_at = CASE WHEN (p.sku, p.name, p.group_path, p.unit, p.barcode, p.properties, p.active)
                    IS DISTINCT FROM (EXCLUDED.sku, EXCLUDED.name, EXCLUDED.group_path, EXCLUDED.unit,
                                      EXCLUDED.barcode, EXCLUDED.properties, EXCLUDED.active)
                    THEN now() ELSE p.updated_at END
WHERE p.version < EXCLUDED.version
RETURNING external_id, peer_id, (xmax = 0) AS inserted`;

const UPSERT_PRICES = `
INSERT INTO product_prices AS p (peer_id, product_external_id, price_type, price_type_name, currency, value, unit,
                                 version)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::text[],
                     $8::bigint[])
ON CONFLICT (peer_id, product_external_id, price_type) DO UPDATE SET
  price_type_name = EXCLUDED.price_type_name, currency = EXCLUDED.currency, value = EXCLUDED.value,
  unit = EXCLUDED.unit, version = EXCLUDED.version,
  updated_at = CASE WHEN (p.currency, p.value, p.unit) IS DISTINCT FROM (EXCLUDED.currency, EXCLUDED.value, EXCLUDED.unit)
                    THEN now() ELSE p.updated_at END
WHERE p.version < EXCLUDED.version
RETURNING product_external_id, peer_id, (xmax = 0) AS inserted`;

/** The stock totals; returns the products written (new or newer version). */
const UPSERT_STOCK = `
INSERT INTO product_stock AS s (peer_id, product_external_id, total, version)
SELECT peer_id, product_external_id, total, version
  FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[], $5::bigint[])
    AS x(idx, peer_id, product_external_id, total, version)
 ORDER BY idx
ON CONFLICT (peer_id, product_external_id) DO UPDATE SET
  total = EXCLUDED.total, version = EXCLUDED.version,
  updated_at = CASE WHEN s.total IS DISTINCT FROM EXCLUDED.total THEN now() ELSE s.updated_at END
WHERE s.version < EXCLUDED.version
RETURNING peer_id, product_external_id, (xmax = 0) AS inserted`;

/**
 * The warehouse rows of the written products are replaced: old ones out, then the new ones in. The DELETE stays
 * unprepared (planned per call): it is the one catalog statement with a join, and a generic plan made while
 * stock_levels was small could keep a sequential scan per product; the INSERTs have no plan choice to get wrong.
 */
const DELETE_LEVELS = `
DELETE FROM stock_levels l USING unnest($1::text[], $2::text[]) AS w(peer_id, product_external_id)
 WHERE l.peer_id = w.peer_id AND l.product_external_id = w.product_external_id`;

const INSERT_LEVELS = `
INSERT INTO stock_levels (peer_id, product_external_id, warehouse_id, warehouse_name, quantity)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[])
ON CONFLICT (peer_id, product_external_id, warehouse_id) DO UPDATE SET
  warehouse_name = EXCLUDED.warehouse_name, quantity = EXCLUDED.quantity`;

@Injectable()
export class ProductRepository {
  /**
   * The product groups of these SKUs from the ERP's catalog: every level of each product's group path (an
   * order of a "Kettles" product under "Appliances" is in both groups). SKUs the catalog does not know have none.
   */
  async groupsBySku(em: EntityManager, skus: string[]): Promise<Map<string, string[]>> {
    if (skus.length === 0) return new Map();
    const rows: Array<{ sku: string; groups: string[] }> = await em.query(
      `SELECT sku, array_agg(DISTINCT g) AS groups
         FROM products, unnest(group_path) AS g
        WHERE sku = ANY($1::text[]) AND active GROUP BY sku`,
      [[...new Set(skus)]],
    );
    return new Map(rows.map((r) => [r.sku, r.groups]));
  }

  async upsertProducts(em: EntityManager, rows: ProductRow[]): Promise<WriteOutcome[]> {
    if (rows.length === 0) return [];
    const written: Array<{ peer_id: string; external_id: string; inserted: boolean }> = await preparedQuery(
      em,
      UPSERT_PRODUCTS,
      [
        pgArray(rows.map((r) => r.peerId)),
        pgArray(rows.map((r) => r.externalId)),
        pgArray(rows.map((r) => r.sku)),
        pgArray(rows.map((r) => r.name)),
        // Each product's group path as an array literal of its own (cast per row), not JSON taken apart by a
        // subquery per row.
        pgArray(rows.map((r) => pgArray(r.groupPath))),
        pgArray(rows.map((r) => r.unit)),
        pgArray(rows.map((r) => r.barcode)),
        pgArray(rows.map((r) => JSON.stringify(r.properties))),
        pgArray(rows.map((r) => r.active)),
        pgArray(rows.map((r) => r.version)),
      ],
    );
    return outcomes(
      rows.map((r) => `${r.peerId}:${r.externalId}`),
      written.map((w) => [`${w.peer_id}:${w.external_id}`, w.inserted]),
    );
  }

  /** Prices of several products; one outcome per product (written when any of its prices was). */
  async upsertPrices(
    em: EntityManager,
    products: Array<{ key: string; prices: PriceRow[] }>,
  ): Promise<WriteOutcome[]> {
    const rows = products.flatMap((p) => p.prices);
    if (rows.length === 0) return products.map(() => 'stale');
    const written: Array<{ peer_id: string; product_external_id: string; inserted: boolean }> =
      await preparedQuery(em, UPSERT_PRICES, [
        pgArray(rows.map((r) => r.peerId)),
        pgArray(rows.map((r) => r.productExternalId)),
        pgArray(rows.map((r) => r.priceType)),
        pgArray(rows.map((r) => r.priceTypeName)),
        pgArray(rows.map((r) => r.currency)),
        pgArray(rows.map((r) => r.value)),
        pgArray(rows.map((r) => r.unit)),
        pgArray(rows.map((r) => r.version)),
      ]);
    return outcomes(
      products.map((p) => p.key),
      written.map((w) => [`${w.peer_id}:${w.product_external_id}`, w.inserted]),
    );
  }

  async upsertStock(em: EntityManager, rows: StockRow[]): Promise<WriteOutcome[]> {
    if (rows.length === 0) return [];
    const written: Array<{ peer_id: string; product_external_id: string; inserted: boolean }> =
      await preparedQuery(em, UPSERT_STOCK, [
        pgArray(rows.map((_, i) => i)),
        pgArray(rows.map((r) => r.peerId)),
        pgArray(rows.map((r) => r.productExternalId)),
        pgArray(rows.map((r) => r.total)),
        pgArray(rows.map((r) => r.version)),
      ]);
    const rowKeys = rows.map((r) => `${r.peerId}:${r.productExternalId}`);
    const writtenKeys = written.map((w): [string, boolean] => [
      `${w.peer_id}:${w.product_external_id}`,
      w.inserted,
    ]);
    const replaced = written.filter((w) => !w.inserted);
    if (replaced.length > 0) {
      await em.query(DELETE_LEVELS, [
        pgArray(replaced.map((w) => w.peer_id)),
        pgArray(replaced.map((w) => w.product_external_id)),
      ]);
    }
    // The written products' warehouse rows, one array per column (no object per level).
    const keys = new Set(writtenKeys.map(([key]) => key));
    const peers: string[] = [];
    const products: string[] = [];
    const warehouses: string[] = [];
    const names: Array<string | null> = [];
    const quantities: number[] = [];
    rows.forEach((r, i) => {
      if (!keys.has(rowKeys[i])) return;
      for (const w of r.warehouses) {
        peers.push(r.peerId);
        products.push(r.productExternalId);
        warehouses.push(w.warehouseId);
        names.push(w.warehouseName);
        quantities.push(w.quantity);
      }
    });
    if (peers.length > 0) {
      await preparedQuery(em, INSERT_LEVELS, [
        pgArray(peers),
        pgArray(products),
        pgArray(warehouses),
        pgArray(names),
        pgArray(quantities),
      ]);
    }
    return outcomes(rowKeys, writtenKeys);
  }

  /** Products of the peer listed by the upload of `version` (or changed since). */
  async countSeen(em: EntityManager, peerId: string, version: number): Promise<number> {
    const [row]: Array<{ n: string }> = await em.query(
      `SELECT count(*) AS n FROM products WHERE peer_id = $1 AND version >= $2`,
      [peerId, version],
    );
    return Number(row.n);
  }

  /**
   * A full catalog upload of `version` ended: products it did not list (older version) become inactive with
   * zero stock; never deleted. They take the version, so an older event cannot bring them back.
   */
  async deactivateUnlisted(em: EntityManager, peerId: string, version: number): Promise<number> {
    const rows: Array<{ external_id: string }> = await em.query(
      `WITH gone AS (
         UPDATE products SET active = false, version = $2, updated_at = now()
          WHERE peer_id = $1 AND version < $2 RETURNING external_id),
       zero AS (
         INSERT INTO product_stock (peer_id, product_external_id, total, version)
         SELECT $1, external_id, 0, $2 FROM gone
         ON CONFLICT (peer_id, product_external_id) DO UPDATE SET total = 0, version = $2, updated_at = now()
         WHERE product_stock.version < $2),
       cleared AS (
         DELETE FROM stock_levels l USING gone g WHERE l.peer_id = $1 AND l.product_external_id = g.external_id)
       SELECT external_id FROM gone`,
      [peerId, version],
    );
    return rows.length;
  }
}

/**
 * A JS array as PostgreSQL's array literal, exactly as pg's own arrayString writes it (every element quoted,
 * null as NULL) but without two regex replaces per element when there is nothing to escape: for a batch of
 * 500 products that escaping was the connector's largest single cost after validation.
 */
export function pgArray(values: ReadonlyArray<string | number | boolean | null>): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      parts[i] = 'NULL';
      continue;
    }
    const s = String(v);
    parts[i] =
      s.includes('\\') || s.includes('"') ? `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `"${s}"`;
  }
  return `{${parts.join(',')}}`;
}

function outcomes(keys: string[], written: Array<[string, boolean]>): WriteOutcome[] {
  const byKey = new Map(written);
  return keys.map((k) => (byKey.has(k) ? (byKey.get(k) ? 'created' : 'updated') : 'stale'));
}
