import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface CorrelationContext {
  correlationId: string;
  eventId?: string;
  peerId?: string;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

/** Carries the correlation id from the HTTP request through AMQP headers to the DB write and every log line. */
export const Correlation = {
  run<T>(ctx: CorrelationContext, fn: () => T): T {
    return storage.run(ctx, fn);
  },
  current(): CorrelationContext | undefined {
    return storage.getStore();
  },
  id(): string | undefined {
    return storage.getStore()?.correlationId;
  },
};

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accept a caller's id only if it is short and harmless in logs; otherwise make our own. */
export function correlationIdFrom(candidate: unknown): string {
  return typeof candidate === 'string' && SAFE_ID.test(candidate) ? candidate : randomUUID();
}
