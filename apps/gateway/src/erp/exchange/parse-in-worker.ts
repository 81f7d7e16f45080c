import { DomainError, type ErrorCode, type EventType } from '@switchboard/contracts';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { XmlError } from '../xml';
import type { EventSpool } from './event-spool';
import type { ParseHooks, ParseJob, ParseResult } from './file-parse';

export type ToParseWorker = { kind: 'chunk'; bytes: Uint8Array } | { kind: 'end' };

export type ParseFailure =
  | { kind: 'xml'; line: number; column: number; what: string; unsafe: boolean }
  | { kind: 'domain'; code: ErrorCode; message: string; permanent: boolean }
  | { kind: 'internal'; message: string };

export type FromParseWorker =
  | { kind: 'consumed' }
  | { kind: 'progress'; elements: number }
  | { kind: 'refused'; type: EventType; result: 'denied' | 'invalid' }
  | { kind: 'done'; result: ParseResult }
  | { kind: 'failed'; failure: ParseFailure };

/** Bytes per message to the worker (unzipped entries come in 16 KiB pieces: one message each cost more). */
const MESSAGE_BYTES = 256 * 1024;
/** Messages sent and not yet consumed: bounds the file's bytes held in memory to ~1 MiB. */
const WINDOW = 4;
/**
 * The worker's old generation: a parse holds one element's tree and a batch of facts at a time; the bound keeps a
 * runaway document from growing the gateway's RSS (the worker then fails, and the import with it). Its young
 * generation is the process's (--max-semi-space-size, which V8 lets win over resourceLimits): a worker with a
 * smaller one (4-16 MB instead of 32) saved 30-60 MB of RSS with two parses at once but cost 15-45 % more CPU.
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64 };

class InternalParseError extends Error {}

function errorOf(f: ParseFailure): Error {
  switch (f.kind) {
    case 'xml':
      return new XmlError(f.line, f.column, f.what, f.unsafe);
    case 'domain':
      return new DomainError(f.code, f.message, f.permanent);
    default:
      return new InternalParseError(f.message);
  }
}

/**
 * parseExchangeFile on a worker thread: `source`'s bytes are sent in MESSAGE_BYTES pieces, at most WINDOW ahead of
 * the parse; the worker writes the events into `spool`'s file. Resolves with the result (spool.count set), or
 * rejects with the parse's error as the same class (XmlError, DomainError); a source that throws (a refused
 * zip) stops the worker.
 */
export async function parseInWorker(
  job: ParseJob,
  source: AsyncIterable<Buffer>,
  spool: EventSpool,
  hooks: ParseHooks,
): Promise<ParseResult> {
  const worker = new Worker(join(__dirname, 'parse.worker.js'), {
    workerData: { job, spoolPath: spool.path },
    resourceLimits: RESOURCE_LIMITS,
  });
  let credits = WINDOW;
  let settled = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    wake?.();
    wake = null;
  };
  const outcome = new Promise<ParseResult>((resolve, reject) => {
    worker.on('message', (m: FromParseWorker) => {
      switch (m.kind) {
        case 'consumed':
          credits++;
          return poke();
        case 'progress':
          return hooks.progress(m.elements);
        case 'refused':
          return hooks.refused(m.type, m.result);
        case 'done':
          return resolve(m.result);
        case 'failed':
          return reject(errorOf(m.failure));
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new InternalParseError(`the parse worker exited (${code})`)));
  });
  const stop = () => {
    settled = true;
    poke();
  };
  outcome.then(stop, stop);
  const send = (parts: Buffer[], size: number) => {
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    worker.postMessage({ kind: 'chunk', bytes } satisfies ToParseWorker, [bytes.buffer]);
  };
  try {
    let parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of source) {
      if (settled) break;
      parts.push(chunk);
      size += chunk.length;
      if (size < MESSAGE_BYTES) continue;
      while (credits === 0 && !settled) await new Promise<void>((resolve) => (wake = resolve));
      if (settled) break;
      credits--;
      send(parts, size);
      parts = [];
      size = 0;
    }
    if (!settled) {
      if (size > 0) send(parts, size);
      worker.postMessage({ kind: 'end' } satisfies ToParseWorker);
    }
    const result = await outcome;
    spool.count = result.events;
    return result;
  } finally {
    await worker.terminate();
  }
}
