import { ClassConstructor } from 'class-transformer';
import {
  CallEventV1,
  callEventKey,
  CallRecordingV1,
  CallRecordV1,
  callRecordKey,
  callRecordOccurredAt,
  TELEPHONY_EVENT_TYPES,
  type CallEventType,
} from './telephony/call-event';
import { LeadSubmittedV1 } from './website/lead-submitted';
import { OrderSubmittedV1 } from './website/order-submitted';
import { CustomerUpdatedV1 } from './website/customer-updated';
import { ERP_CONTRACTS, ERP_EVENT_TYPES } from './erp/registry';

export const EventType = {
  WebsiteOrderSubmitted: 'website.order.submitted',
  WebsiteLeadSubmitted: 'website.lead.submitted',
  WebsiteCustomerUpdated: 'website.customer.updated',
  TelephonyCallStarted: TELEPHONY_EVENT_TYPES.started,
  TelephonyCallRinging: TELEPHONY_EVENT_TYPES.ringing,
  TelephonyCallAnswered: TELEPHONY_EVENT_TYPES.answered,
  TelephonyCallTransferred: TELEPHONY_EVENT_TYPES.transferred,
  TelephonyCallEnded: TELEPHONY_EVENT_TYPES.ended,
  TelephonyCallRecordingReady: TELEPHONY_EVENT_TYPES.recordingReady,
  TelephonyCallCompleted: TELEPHONY_EVENT_TYPES.cdr,
  ErpProductUpserted: ERP_EVENT_TYPES.productUpserted,
  ErpPriceUpdated: ERP_EVENT_TYPES.priceUpdated,
  ErpStockUpdated: ERP_EVENT_TYPES.stockUpdated,
  ErpCatalogCompleted: ERP_EVENT_TYPES.catalogCompleted,
  ErpCatalogBatch: ERP_EVENT_TYPES.catalogBatch,
  ErpInvoiceIssued: ERP_EVENT_TYPES.invoiceIssued,
  ErpInvoicePaid: ERP_EVENT_TYPES.invoicePaid,
  ErpInvoiceCancelled: ERP_EVENT_TYPES.invoiceCancelled,
  ErpOrderStatusChanged: ERP_EVENT_TYPES.orderStatusChanged,
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export interface ContractDefinition<T extends object = object> {
  type: string;
  schemaVersion: number;
  dto: ClassConstructor<T>;
  /** The peer's natural identity of this fact when it sends no Idempotency-Key header. */
  naturalKey(payload: T): string;
  /** When the fact happened at the source (envelope.occurredAt). */
  occurredAt(payload: T): string;
}

function define<T extends object>(def: ContractDefinition<T>): ContractDefinition<T> {
  return def;
}

/** Five call events share one DTO; the type names the fact and is part of the natural key. */
function callEvent(type: CallEventType): ContractDefinition<CallEventV1> {
  return define<CallEventV1>({
    type,
    schemaVersion: 1,
    dto: CallEventV1,
    naturalKey: (e) => callEventKey(type, e),
    occurredAt: (e) => e.occurredAt,
  });
}

/**
 * Single source of truth: the gateway validates against it, connectors re-validate against it. Typed per
 * event type as `ContractDefinition<object>` so that a lookup by any EventType (a union) stays usable.
 */
export const CONTRACTS: Readonly<Record<EventType, ContractDefinition<object>>> = {
  [EventType.WebsiteOrderSubmitted]: define<OrderSubmittedV1>({
    type: EventType.WebsiteOrderSubmitted,
    schemaVersion: 1,
    dto: OrderSubmittedV1,
    naturalKey: (o) => `order:${o.externalId}@${o.updatedAt ?? o.createdAt}:${o.status}`,
    occurredAt: (o) => o.updatedAt ?? o.createdAt,
  }),
  [EventType.WebsiteLeadSubmitted]: define<LeadSubmittedV1>({
    type: EventType.WebsiteLeadSubmitted,
    schemaVersion: 1,
    dto: LeadSubmittedV1,
    // Without a submission id, the same person, form and moment is the same request.
    naturalKey: (l) =>
      l.submissionId
        ? `lead:${l.submissionId}`
        : `lead:${l.formId ?? ''}:${l.phone ?? ''}:${l.email ?? ''}@${l.occurredAt}`,
    occurredAt: (l) => l.occurredAt,
  }),
  [EventType.WebsiteCustomerUpdated]: define<CustomerUpdatedV1>({
    type: EventType.WebsiteCustomerUpdated,
    schemaVersion: 1,
    dto: CustomerUpdatedV1,
    // One revision of one account is one fact: a re-post of it is the same event.
    naturalKey: (c) => `customer:${c.siteCustomerId}@${c.version}`,
    occurredAt: (c) => c.updatedAt ?? new Date().toISOString(),
  }),
  [EventType.TelephonyCallStarted]: callEvent(EventType.TelephonyCallStarted),
  [EventType.TelephonyCallRinging]: callEvent(EventType.TelephonyCallRinging),
  [EventType.TelephonyCallAnswered]: callEvent(EventType.TelephonyCallAnswered),
  [EventType.TelephonyCallTransferred]: callEvent(EventType.TelephonyCallTransferred),
  [EventType.TelephonyCallEnded]: callEvent(EventType.TelephonyCallEnded),
  [EventType.TelephonyCallRecordingReady]: define<CallRecordingV1>({
    type: EventType.TelephonyCallRecordingReady,
    schemaVersion: 1,
    dto: CallRecordingV1,
    naturalKey: (e) => callEventKey(EventType.TelephonyCallRecordingReady, e),
    occurredAt: (e) => e.occurredAt,
  }),
  [EventType.TelephonyCallCompleted]: define<CallRecordV1>({
    type: EventType.TelephonyCallCompleted,
    schemaVersion: 1,
    dto: CallRecordV1,
    naturalKey: callRecordKey,
    occurredAt: callRecordOccurredAt,
  }),
  ...ERP_CONTRACTS,
};

/** Whether `value` names a registered event type (e.g. an adapter's output or a peer's `type` field). */
export const isEventType = (value: unknown): value is EventType =>
  typeof value === 'string' && Object.prototype.hasOwnProperty.call(CONTRACTS, value);

/**
 * Which connector consumes which event types. Adding a connector: add a line here and an app under
 * apps/; the gateway declares every connector's queue at start, so events are kept even before the
 * connector first runs.
 */
export const CONNECTORS = {
  'website-connector': { bindings: ['website.#'] },
  'telephony-connector': { bindings: ['telephony.#'] },
  'erp-connector': { bindings: ['erp.#'] },
} as const;
export type ConnectorName = keyof typeof CONNECTORS;
