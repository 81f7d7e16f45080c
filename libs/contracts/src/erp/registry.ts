import type { ContractDefinition } from '../registry';
import {
  CatalogBatchV1,
  CatalogCompletedV1,
  PriceUpdatedV1,
  ProductUpsertedV1,
  StockUpdatedV1,
} from './catalog';
import { InvoiceV1, OrderStatusChangedV1, type InvoiceStatus } from './documents';

export const ERP_EVENT_TYPES = {
  productUpserted: 'erp.product.upserted',
  priceUpdated: 'erp.price.updated',
  stockUpdated: 'erp.stock.updated',
  catalogCompleted: 'erp.catalog.completed',
  catalogBatch: 'erp.catalog.batch',
  invoiceIssued: 'erp.invoice.issued',
  invoicePaid: 'erp.invoice.paid',
  invoiceCancelled: 'erp.invoice.cancelled',
  orderStatusChanged: 'erp.order.status-changed',
} as const;
export type ErpEventType = (typeof ERP_EVENT_TYPES)[keyof typeof ERP_EVENT_TYPES];

/** The event type of an invoice in this status. */
export const invoiceEventType = (status: InvoiceStatus): ErpEventType =>
  status === 'paid'
    ? ERP_EVENT_TYPES.invoicePaid
    : status === 'cancelled'
      ? ERP_EVENT_TYPES.invoiceCancelled
      : ERP_EVENT_TYPES.invoiceIssued;

/** Versions are integers; as occurredAt, "now" (the ERP gives no time for most of these facts). */
const now = () => new Date().toISOString();

function invoice(type: ErpEventType): ContractDefinition<InvoiceV1> {
  return {
    type,
    schemaVersion: 1,
    dto: InvoiceV1,
    naturalKey: (i) => `invoice:${i.kind}:${i.number}@${i.version}:${i.status}`,
    occurredAt: (i) => (i.status === 'paid' && i.paidAt ? toTimestamp(i.paidAt) : toTimestamp(i.issueDate)),
  };
}

/** A date-only value as midnight UTC, so occurredAt is always a timestamp. */
const toTimestamp = (d: string) => (d.length === 10 ? `${d}T00:00:00.000Z` : d);

export const ERP_CONTRACTS: Record<ErpEventType, ContractDefinition<object>> = {
  [ERP_EVENT_TYPES.productUpserted]: {
    type: ERP_EVENT_TYPES.productUpserted,
    schemaVersion: 1,
    dto: ProductUpsertedV1,
    naturalKey: (p: ProductUpsertedV1) => `product:${p.externalId}@${p.version}`,
    occurredAt: now,
  },
  [ERP_EVENT_TYPES.priceUpdated]: {
    type: ERP_EVENT_TYPES.priceUpdated,
    schemaVersion: 1,
    dto: PriceUpdatedV1,
    naturalKey: (p: PriceUpdatedV1) => `price:${p.productExternalId}@${p.version}`,
    occurredAt: now,
  },
  [ERP_EVENT_TYPES.stockUpdated]: {
    type: ERP_EVENT_TYPES.stockUpdated,
    schemaVersion: 1,
    dto: StockUpdatedV1,
    naturalKey: (s: StockUpdatedV1) => `stock:${s.productExternalId}@${s.version}`,
    occurredAt: now,
  },
  [ERP_EVENT_TYPES.catalogBatch]: {
    type: ERP_EVENT_TYPES.catalogBatch,
    schemaVersion: 1,
    dto: CatalogBatchV1,
    naturalKey: (b: CatalogBatchV1) => `catalog-batch:${b.batchId}`,
    occurredAt: now,
  },
  [ERP_EVENT_TYPES.catalogCompleted]: {
    type: ERP_EVENT_TYPES.catalogCompleted,
    schemaVersion: 1,
    dto: CatalogCompletedV1,
    naturalKey: (c: CatalogCompletedV1) => `catalog:${c.uploadId}@${c.version}`,
    occurredAt: now,
  },
  [ERP_EVENT_TYPES.invoiceIssued]: invoice(ERP_EVENT_TYPES.invoiceIssued),
  [ERP_EVENT_TYPES.invoicePaid]: invoice(ERP_EVENT_TYPES.invoicePaid),
  [ERP_EVENT_TYPES.invoiceCancelled]: invoice(ERP_EVENT_TYPES.invoiceCancelled),
  [ERP_EVENT_TYPES.orderStatusChanged]: {
    type: ERP_EVENT_TYPES.orderStatusChanged,
    schemaVersion: 1,
    dto: OrderStatusChangedV1,
    naturalKey: (o: OrderStatusChangedV1) => `order-status:${o.orderId}@${o.version}`,
    occurredAt: now,
  },
};
