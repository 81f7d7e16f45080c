import { DomainError, type ErrorCode, type EventType } from '@switchboard/contracts';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
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
 * The worker's heap: a parse holds one element's tree and a batch of facts at a time; a bound keeps a
 * runaway document from growing the gateway's RSS (it then fails as an internal error, the import with it).
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 6 };

class InternalParseError extends Error {}

/**
 * The semi-space size the process was started with (`--max-semi-space-size`, from the command line or
 * NODE_OPTIONS: config/scripts/v8-flags.json, the Docker image), if any.
 */
const SEMI_SPACE_FLAG = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  .map((a) => /^--max-semi-space-size=(\d+)$/.exec(a)?.[1])
  .find((v) => v !== undefined);
let startingWorkers = 0;

/**
 * A worker whose young generation is RESOURCE_LIMITS' own. V8 lets a process-wide --max-semi-space-size win over a
 * worker's resourceLimits, so each parse worker's young generation was as big as the gateway's (32 MB; two of them
 * put a 100,000-offer import over 300 MB RSS). An isolate reads the flag only when it is created: it is cleared
 * (0 = sized from the limits) while workers start, and put back once the last one is online.
 */
function startWorker(file: string, workerData: unknown): Worker {
  if (SEMI_SPACE_FLAG === undefined) return new Worker(file, { workerData, resourceLimits: RESOURCE_LIMITS });
  if (startingWorkers++ === 0) setFlagsFromString('--max-semi-space-size=0');
  let started = false;
  const startedUp = () => {
    if (started) return;
    started = true;
    if (--startingWorkers === 0) setFlagsFromString(`--max-semi-space-size=${SEMI_SPACE_FLAG}`);
  };
  try {
    const worker = new Worker(file, { workerData, resourceLimits: RESOURCE_LIMITS });
    worker.once('online', startedUp);
    worker.once('error', startedUp);
    worker.once('exit', startedUp);
    return worker;
  } catch (err) {
    startedUp();
    throw err;
  }
}

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
  const worker = startWorker(join(__dirname, 'parse.worker.js'), { job, spoolPath: spool.path });
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
