import { DomainError, type ErrorCode, type EventType } from '@switchboard/contracts';
import { Slots } from '@switchboard/messaging';
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
 * The worker's old generation: a parse holds one element's tree and a batch of facts at a time; the bound keeps a
 * runaway document from growing the gateway's RSS (the worker then fails, and the import with it).
 */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64 };
/**
 * The worker's semi-space, MB. resourceLimits.maxYoungGenerationSizeMb would be the way to say it, but V8 lets the
 * process's --max-semi-space-size (16, config/scripts/v8-flags.json) win over it, so the flag itself is lowered
 * while a worker's isolate is created (V8 reads it only then) and put back once the worker is online. A parse
 * keeps little alive between its young collections (one element, a batch of facts serialized as strings): with 16
 * MB each worker held ~27 MB of young generation plus ~12 MB of dead buffers waiting for a scavenge; with 8 the
 * gateway's peak during a 100,000-offer import fell by ~25 MB at ~5 % more of its CPU, and 4 cost ~20 % more.
 */
const WORKER_SEMI_SPACE_MB = 8;
/**
 * The process's own --max-semi-space-size ("0": V8's default sizing), from its command line or NODE_OPTIONS (the
 * Docker image); the last one given wins, as for V8.
 */
const PROCESS_SEMI_SPACE_MB =
  [...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv]
    .map((a) => /^--max-semi-space-size=(\d+)$/.exec(a)?.[1])
    .filter((v) => v !== undefined)
    .pop() ?? '0';
let starting = 0;

/** A parse worker with WORKER_SEMI_SPACE_MB (see there). */
function startWorker(workerData: object): Worker {
  if (starting++ === 0) setFlagsFromString(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
  let started = false;
  const online = () => {
    if (started) return;
    started = true;
    if (--starting === 0) setFlagsFromString(`--max-semi-space-size=${PROCESS_SEMI_SPACE_MB}`);
  };
  try {
    const worker = new Worker(join(__dirname, 'parse.worker.js'), {
      workerData,
      resourceLimits: RESOURCE_LIMITS,
    });
    worker.once('online', online);
    worker.once('error', online);
    worker.once('exit', online);
    return worker;
  } catch (err) {
    online();
    throw err;
  }
}
/**
 * Parse workers at once in this process, whatever the number of peers importing: each holds ~50-60 MB (its
 * heap and its own copy of the modules it loads), so more would take the gateway past its memory budget; two
 * keep both cores busy with one upload's import.xml and offers.xml. Later parses wait their turn.
 */
const workerSlots = new Slots(2);

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
 * zip) stops the worker. At most two run at once in the process (workerSlots).
 */
export async function parseInWorker(
  job: ParseJob,
  source: AsyncIterable<Buffer>,
  spool: EventSpool,
  hooks: ParseHooks,
): Promise<ParseResult> {
  await workerSlots.acquire();
  try {
    return await parseInSlot(job, source, spool, hooks);
  } finally {
    workerSlots.release();
  }
}

async function parseInSlot(
  job: ParseJob,
  source: AsyncIterable<Buffer>,
  spool: EventSpool,
  hooks: ParseHooks,
): Promise<ParseResult> {
  const worker = startWorker({ job, spoolPath: spool.path });
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
