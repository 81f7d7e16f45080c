import { DomainError } from '@switchboard/contracts/core';
import { parentPort, workerData } from 'node:worker_threads';
import { XmlError } from '../xml';
import { EventSpool } from './event-spool';
import { parseExchangeFile, type ParseJob } from './file-parse';
import type { FromParseWorker, ParseFailure, ToParseWorker } from './parse-in-worker';

/**
 * A 1C file's parse on its own thread (started by parseInWorker): the file's bytes arrive as messages, a
 * message back for each one consumed (the sender's window), the events go into the spool file the main thread
 * opened, and the last message is the result or the failure.
 */
const port = parentPort!;
const { job, spoolPath } = workerData as { job: ParseJob; spoolPath: string };
const post = (m: FromParseWorker) => port.postMessage(m);

const queue: Buffer[] = [];
let ended = false;
let wake: (() => void) | null = null;
port.on('message', (m: ToParseWorker) => {
  if (m.kind === 'chunk') queue.push(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
  else ended = true;
  wake?.();
  wake = null;
});

async function* chunks(): AsyncGenerator<Buffer> {
  for (;;) {
    const next = queue.shift();
    if (next) {
      yield next;
      post({ kind: 'consumed' });
      continue;
    }
    if (ended) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

function failureOf(err: unknown): ParseFailure {
  if (err instanceof XmlError)
    return { kind: 'xml', line: err.line, column: err.column, what: err.what, unsafe: err.unsafe };
  if (err instanceof DomainError)
    return { kind: 'domain', code: err.code, message: err.message, permanent: err.permanent };
  return { kind: 'internal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

async function main(): Promise<void> {
  const spool = await EventSpool.openAt(spoolPath);
  let lastProgress = 0;
  try {
    const result = await parseExchangeFile(job, chunks(), spool, {
      progress: (elements) => {
        const now = Date.now();
        if (now - lastProgress < 250) return;
        lastProgress = now;
        post({ kind: 'progress', elements });
      },
      refused: (type, result) => post({ kind: 'refused', type, result }),
    });
    await spool.seal();
    post({ kind: 'done', result });
  } catch (err) {
    await spool.seal().catch(() => undefined);
    post({ kind: 'failed', failure: failureOf(err) });
  }
}

void main();
