import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

export interface ProductFilter {
  sku?: string;
  externalId?: string;
  q?: string;
  /** The id of the last product of the previous page. */
  after?: string;
  limit: number;
}

export interface InvoiceFilter {
  dealId?: string;
  contactId?: string;
  status?: string;
  limit: number;
}

/** A product with its prices and its stock per warehouse, as the console shows it. */
const PRODUCT_VIEW = `
SELECT p.id, p.peer_id AS "peerId", p.external_id AS "externalId", p.sku, p.name, p.group_path AS "groupPath",
       p.unit, p.barcode, p.properties, p.active, p.version::text AS version, p.updated_at AS "updatedAt",
       COALESCE((SELECT json_agg(json_build_object('priceType', x.price_type, 'priceTypeName', x.price_type_name,
                                                  'currency', x.currency, 'value', x.value, 'unit', x.unit)
                                 ORDER BY x.price_type)
                   FROM product_prices x WHERE x.peer_id = p.peer_id AND x.product_external_id = p.external_id), '[]')
         AS prices,
       (SELECT json_build_object('total', s.total,
                 'warehouses', COALESCE((SELECT json_agg(json_build_object('warehouseId', l.warehouse_id,
                                                 'warehouseName', l.warehouse_name, 'quantity', l.quantity)
                                                 ORDER BY l.warehouse_id)
                                           FROM stock_levels l
                                          WHERE l.peer_id = p.peer_id AND l.product_external_id = p.external_id), '[]'))
          FROM product_stock s WHERE s.peer_id = p.peer_id AND s.product_external_id = p.external_id) AS stock
  FROM products p`;

const INVOICE_VIEW = `
SELECT i.id, i.peer_id AS "peerId", i.kind, i.number, i.status, i.type_code AS "typeCode",
       to_char(i.issue_date, 'YYYY-MM-DD') AS "issueDate", to_char(i.due_date, 'YYYY-MM-DD') AS "dueDate",
       i.paid_at AS "paidAt", i.currency, i.buyer_reference AS "buyerReference", i.order_reference AS "orderReference",
       i.billing_reference AS "billingReference", i.seller, i.buyer, i.tax_total::float8 AS "taxTotal",
       i.total_without_tax::float8 AS "totalWithoutTax", i.total::float8 AS total, i.deal_id AS "dealId", i.contact_id AS "contactId",
       i.version::text AS version, i.updated_at AS "updatedAt",
       COALESCE((SELECT json_agg(json_build_object('position', l.position, 'sku', l.sku,
                                 'productExternalId', l.product_external_id, 'name', l.name, 'quantity', l.quantity,
                                 'unitCode', l.unit_code, 'price', l.price, 'amount', l.amount,
                                 'taxPercent', l.tax_percent) ORDER BY l.position)
                   FROM invoice_lines l WHERE l.invoice_id = i.id), '[]') AS lines
  FROM invoices i`;

/** The read side of products and invoices (console API); all its SQL. */
@Injectable()
export class ErpReadRepository {
  async products(em: EntityManager, f: ProductFilter): Promise<Array<Record<string, unknown>>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.sku !== undefined) add('p.sku = ?', f.sku);
    if (f.externalId !== undefined) add('p.external_id = ?', f.externalId);
    if (f.q !== undefined)
      add(`(p.name ILIKE ? OR p.sku ILIKE $${params.length + 1})`, `%${f.q.replace(/[\\%_]/g, '\\$&')}%`);
    if (f.after !== undefined) add('p.id > ?::uuid', f.after);
    params.push(f.limit);
    return em.query(
      `${PRODUCT_VIEW} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY p.id LIMIT $${params.length}`,
      params,
    );
  }

  async product(em: EntityManager, id: string): Promise<Record<string, unknown> | null> {
    const rows: Array<Record<string, unknown>> = await em.query(`${PRODUCT_VIEW} WHERE p.id = $1`, [id]);
    return rows[0] ?? null;
  }

  async invoices(em: EntityManager, f: InvoiceFilter): Promise<Array<Record<string, unknown>>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.dealId !== undefined) add('i.deal_id = ?::uuid', f.dealId);
    if (f.contactId !== undefined) add('i.contact_id = ?::uuid', f.contactId);
    if (f.status !== undefined) add('i.status = ?', f.status);
    params.push(f.limit);
    return em.query(
      `${INVOICE_VIEW} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY i.issue_date DESC, i.id LIMIT $${params.length}`,
      params,
    );
  }
}
