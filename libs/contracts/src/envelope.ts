import { v7 as uuidv7 } from 'uuid';

/**
 * What travels on the broker. Plain JSON so producers and consumers need not be Nest or even Node.
 * Routing key = type.
 */
export interface EventEnvelope<P = unknown> {
  id: string;
  type: string;
  peerId: string;
  /** The peer's own identity of this fact (header Idempotency-Key, else the contract's natural key). */
  idempotencyKey: string;
  occurredAt: string;
  receivedAt: string;
  schemaVersion: number;
  traceId: string;
  payload: P;
}

export function createEnvelope<P>(
  init: Omit<EventEnvelope<P>, 'id' | 'receivedAt'> & { receivedAt?: Date },
): EventEnvelope<P> {
  const { receivedAt, ...rest } = init;
  return { id: uuidv7(), receivedAt: (receivedAt ?? new Date()).toISOString(), ...rest };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Structural check of a message read off the broker (anything can be published to an exchange). */
export function isEnvelope(value: unknown): value is EventEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    UUID.test(v.id) &&
    typeof v.type === 'string' &&
    typeof v.peerId === 'string' &&
    typeof v.idempotencyKey === 'string' &&
    typeof v.schemaVersion === 'number' &&
    typeof v.payload === 'object' &&
    v.payload !== null
  );
}
