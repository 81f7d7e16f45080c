import type { Channel, ConfirmChannel, GetMessage } from 'amqplib';
import { TopologyNames } from './topology';

export interface DeadLetter {
  messageId: string;
  routingKey: string;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  failedAt: string;
  body: string;
}

/** A header as text; AMQP tables carry strings, numbers, or (rarely) byte arrays. */
function h(m: GetMessage, k: string): string | undefined {
  const v: unknown = m.properties.headers?.[k];
  if (v === undefined || v === null) return undefined;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function describe(m: GetMessage): DeadLetter {
  return {
    messageId: h(m, 'x-original-message-id') ?? String(m.properties.messageId ?? ''),
    routingKey: h(m, 'x-original-routing-key') ?? '',
    errorCode: h(m, 'x-error-code') ?? 'DELIVERY_LIMIT',
    errorMessage: h(m, 'x-error-message') ?? '',
    attempts: Number(h(m, 'x-attempts') ?? h(m, 'x-delivery-count') ?? 0),
    failedAt: h(m, 'x-failed-at') ?? '',
    body: m.content.toString('utf8'),
  };
}

/** Reads up to `limit` dead letters without removing them (they are requeued as the channel closes). */
export async function peekDeadLetters(ch: Channel, names: TopologyNames, connector: string, limit: number) {
  const out: DeadLetter[] = [];
  for (let i = 0; i < limit; i++) {
    const m = await ch.get(names.deadLetterQueue(connector), { noAck: false });
    if (!m) break;
    out.push(describe(m));
  }
  await ch.recover(); // give them all back, unchanged
  return out;
}

/**
 * Re-publishes dead letters to the events exchange with their original routing key and a fresh attempt count,
 * each confirmed before its dead letter is acked: a crash mid-replay duplicates (absorbed by the inbox), never
 * loses. Returns what was replayed.
 */
export async function replayDeadLetters(
  ch: ConfirmChannel,
  names: TopologyNames,
  connector: string,
  limit: number,
): Promise<DeadLetter[]> {
  const replayed: DeadLetter[] = [];
  for (let i = 0; i < limit; i++) {
    const m = await ch.get(names.deadLetterQueue(connector), { noAck: false });
    if (!m) break;
    const dl = describe(m);
    if (!dl.routingKey) {
      ch.nack(m, false, true);
      throw new Error(`dead letter ${dl.messageId} has no original routing key; not replayed`);
    }
    ch.publish(names.exchange, dl.routingKey, m.content, {
      persistent: true,
      contentType: m.properties.contentType as string | undefined,
      messageId: dl.messageId,
      correlationId: m.properties.correlationId as string | undefined,
      type: m.properties.type as string | undefined,
      headers: { 'x-replayed-at': new Date().toISOString(), 'x-replayed-error': dl.errorCode },
    });
    await ch.waitForConfirms();
    ch.ack(m);
    replayed.push(dl);
  }
  return replayed;
}
