import type { EventType } from '@switchboard/contracts';
import {
  AuthError,
  ContractViolation,
  createEnvelope,
  type EventEnvelope,
  validateContract,
} from '@switchboard/contracts/core';
import { ERP_CONTRACTS, ERP_EVENT_TYPES, type ErpEventType } from '@switchboard/contracts/erp';
import { XmlError, XmlStream, type XmlNode } from '../xml';
import { catalogBatchJson, CatalogBatcher } from './catalog-batcher';
import { CatalogMapper, captureOrderDocuments, orderStatusEvent, type CmlEvent } from './commerceml';
import { EventSpool } from './event-spool';

/**
 * One 1C file's parse, free of Nest and of the process it runs in: the exchange runs it in a worker thread
 * (parse-worker.ts) so that a 100,000-offer catalog neither stalls the gateway's other routes nor shares their
 * heap, and so that two files of one upload can be parsed at once. It imports the lean contract entries (core,
 * erp), not the index: every worker loads its own copy of what it imports.
 */
export interface ParseJob {
  type: 'catalog' | 'sale';
  importId: string;
  /** The import's version: every fact of the file carries it. */
  version: number;
  peerId: string;
  /** The event types this peer may send (its scopes, checked on the main thread). */
  allowed: EventType[];
  traceId: string;
}

export interface ParseResult {
  /** Elements read (products, offers, documents). */
  elements: number;
  /** Events spooled, the catalog's completion event included. */
  events: number;
}

export interface ParseHooks {
  progress(elements: number): void;
  /** A refused fact, for the ingest counters (the file then fails with it). */
  refused(type: EventType, result: 'denied' | 'invalid'): void;
}

const SLICE = 64 * 1024;
export const FACTS_PER_BATCH = 1000;

/**
 * JSON.stringify(envelope) with `payloadJson` as its payload: createEnvelope puts the payload last, so the
 * envelope is serialized with a stand-in and the body's JSON (assembled from facts serialized once) goes in
 * its place.
 */
export function withPayload(envelope: EventEnvelope<object>, payloadJson: string): string {
  const head = JSON.stringify({ ...envelope, payload: 0 });
  if (!head.endsWith(',"payload":0}')) throw new Error("the envelope's payload is not its last member");
  return `${head.slice(0, -2)}${payloadJson}}`;
}

/**
 * Reads the file once: every element is mapped, each fact validated against its own contract (a failure names
 * its element, line and column), catalog facts batched as erp.catalog.batch events of FACTS_PER_BATCH, and every
 * event serialized into the spool; a full catalog ends with its erp.catalog.completed. Throws (XmlError, with
 * the position) on the first problem: the caller publishes the spool only when this returned.
 */
export async function parseExchangeFile(
  job: ParseJob,
  source: AsyncIterable<Buffer>,
  spool: EventSpool,
  hooks: ParseHooks,
): Promise<ParseResult> {
  const allowed = new Set<string>(job.allowed);
  const scoped = (type: EventType) => {
    if (allowed.has(type)) return;
    hooks.refused(type, 'denied');
    throw new AuthError('AUTH_SCOPE_DENIED', `This peer may not send ${type} events.`);
  };
  const envelope = (type: EventType, payload: object): EventEnvelope<object> => {
    const contract = ERP_CONTRACTS[type as ErpEventType];
    return createEnvelope({
      type,
      peerId: job.peerId,
      idempotencyKey: contract.naturalKey(payload as never),
      occurredAt: contract.occurredAt(payload as never),
      schemaVersion: contract.schemaVersion,
      traceId: job.traceId,
      payload,
    });
  };
  const checked = (type: EventType, body: unknown): object => {
    scoped(type);
    try {
      return validateContract(ERP_CONTRACTS[type as ErpEventType].dto, body);
    } catch (err) {
      hooks.refused(type, 'invalid');
      throw err;
    }
  };

  const mapper = job.type === 'catalog' ? new CatalogMapper(job.version) : null;
  let batchSeq = 0;
  const ready: Array<{ envelope: EventEnvelope<object>; json: string }> = [];
  const batcher = new CatalogBatcher((facts) => {
    const batchId = `1c-${job.importId}:${batchSeq++}`;
    scoped(ERP_EVENT_TYPES.catalogBatch);
    // The envelope (scope, key, trace) of the body's head; the body itself goes in as serialized.
    const head = envelope(ERP_EVENT_TYPES.catalogBatch, { batchId });
    ready.push({ envelope: head, json: withPayload(head, catalogBatchJson(batchId, facts)) });
  }, FACTS_PER_BATCH);
  let elements = 0;
  const onEvents = (list: CmlEvent[], stream: XmlStream) => {
    for (const e of list) {
      try {
        const type = e.type as EventType;
        const payload = checked(type, e.payload);
        if (!mapper) {
          const env = envelope(type, payload);
          ready.push({ envelope: env, json: JSON.stringify(env) });
          continue;
        }
        batcher.add(
          type === ERP_EVENT_TYPES.productUpserted
            ? 'products'
            : type === ERP_EVENT_TYPES.priceUpdated
              ? 'prices'
              : 'stock',
          payload,
        );
      } catch (err) {
        const { line, column } = stream.position();
        if (err instanceof ContractViolation) {
          const what = err.errors.map((f) => `${f.field}: ${f.message}`).join('; ');
          throw new XmlError(line, column, `${e.what}: ${what}`);
        }
        if (err instanceof AuthError) throw new XmlError(line, column, `${e.what}: ${err.message}`);
        throw err;
      }
    }
  };
  const stream: XmlStream = new XmlStream(
    mapper ? (p) => CatalogMapper.capture(p) : captureOrderDocuments,
    (node: XmlNode) => {
      elements++;
      onEvents(mapper ? mapper.onNode(node) : [orderStatusEvent(node, job.version)], stream);
    },
    mapper ? (name, attrs) => mapper.onOpen(name, attrs) : undefined,
  );
  if (mapper) stream.prune = (p) => CatalogMapper.prune(p);
  const drain = async () => {
    for (const { envelope: env, json } of ready.splice(0)) {
      await spool.append({ id: env.id, type: env.type, traceId: env.traceId }, Buffer.from(json));
    }
  };
  // A turn of the event loop after every 64 KiB parsed (inline, a big file must not stall the gateway). Counted
  // across chunks: unzipped entries come in 16 KiB pieces, and a turn per piece cost more than the piece.
  let sinceTurn = 0;
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; at += SLICE) {
      const slice = chunk.subarray(at, at + SLICE);
      stream.write(slice);
      sinceTurn += slice.length;
      if (sinceTurn < SLICE) continue;
      sinceTurn = 0;
      hooks.progress(elements);
      await drain();
      await new Promise((r) => setImmediate(r));
    }
  }
  stream.end();
  batcher.flush();
  await drain();
  if (mapper && mapper.hasCatalog && mapper.changesOnly !== true) {
    const type = ERP_EVENT_TYPES.catalogCompleted;
    const env = envelope(
      type,
      checked(type, {
        uploadId: `1c-${job.importId}`,
        version: job.version,
        listed: mapper.products,
        full: true,
      }),
    );
    await spool.append(
      { id: env.id, type: env.type, traceId: env.traceId },
      Buffer.from(JSON.stringify(env)),
    );
  }
  hooks.progress(elements);
  return { elements, events: spool.count };
}
