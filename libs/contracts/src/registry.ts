import { ClassConstructor } from 'class-transformer';
import { OrderSubmittedV1 } from './website/order-submitted';

export const EventType = {
  WebsiteOrderSubmitted: 'website.order.submitted',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export interface ContractDefinition<T extends object = object> {
  type: EventType;
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

/** Single source of truth: the gateway validates against it, connectors re-validate against it. */
export const CONTRACTS = {
  [EventType.WebsiteOrderSubmitted]: define<OrderSubmittedV1>({
    type: EventType.WebsiteOrderSubmitted,
    schemaVersion: 1,
    dto: OrderSubmittedV1,
    naturalKey: (o) => `order:${o.externalId}@${o.updatedAt ?? o.createdAt}:${o.status}`,
    occurredAt: (o) => o.updatedAt ?? o.createdAt,
  }),
} satisfies Record<EventType, ContractDefinition<object>>;

/**
 * Which connector consumes which event types. Adding a connector: add a line here and an app under
 * apps/; the gateway declares every connector's queue at start, so events are kept even before the
 * connector first runs.
 */
export const CONNECTORS = {
  'website-connector': { bindings: ['website.#'] },
} as const;
export type ConnectorName = keyof typeof CONNECTORS;
