import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import * as yauzl from 'yauzl';

export class ZipRefused extends Error {}

export interface ZipLimits {
  maxUnzippedBytes: number;
  maxRatio: number;
  maxEntries: number;
}

/**
 * The upload copied from PostgreSQL to a private temp file (yauzl needs random access: the directory sits at the
 * end) and opened; the file is deleted when `use` is done with the zip.
 */
async function* withZip<T>(
  source: AsyncIterable<Buffer>,
  use: (zip: yauzl.ZipFile) => AsyncGenerator<T>,
): AsyncGenerator<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-1c-'));
  const file = join(dir, 'upload.zip');
  try {
    await pipeline(Readable.from(source), createWriteStream(file, { mode: 0o600 }));
    const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false }, (err, z) =>
        err ? reject(new ZipRefused(`not a readable zip: ${err.message}`)) : resolve(z),
      ),
    );
    try {
      yield* use(zip);
    } finally {
      zip.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One entry of an uploaded zip, streamed. yauzl needs random access (the directory sits at the end), so the
 * upload is copied from PostgreSQL to a private temp file for the time of the read (deleted after). Refuses
 * entries whose declared size or compression ratio is over the limits, and stops reading at the limit whatever
 * the header says (yauzl also checks the real size against the declared one).
 */
export function zipEntry(
  source: AsyncIterable<Buffer>,
  name: string,
  limits: ZipLimits,
): AsyncGenerator<Buffer> {
  return withZip(source, async function* (zip) {
    if (zip.entryCount > limits.maxEntries)
      throw new ZipRefused(`the zip holds over ${limits.maxEntries} entries`);
    const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName === name || e.fileName.split('/').pop() === name) resolve(e);
        else zip.readEntry();
      });
      zip.on('end', () => resolve(null));
      zip.on('error', (err: Error) => reject(new ZipRefused(`broken zip: ${err.message}`)));
      zip.readEntry();
    });
    if (!entry) throw new ZipRefused(`the zip has no file "${name}"`);
    if (entry.uncompressedSize > limits.maxUnzippedBytes) {
      throw new ZipRefused(
        `"${name}" unpacks to ${entry.uncompressedSize} bytes, over ${limits.maxUnzippedBytes}`,
      );
    }
    if (entry.compressedSize > 0 && entry.uncompressedSize / entry.compressedSize > limits.maxRatio) {
      throw new ZipRefused(`"${name}" is compressed over ${limits.maxRatio}:1 (a zip bomb?)`);
    }
    const stream = await new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err ? reject(new ZipRefused(err.message)) : resolve(s))),
    );
    let total = 0;
    try {
      for await (const chunk of stream) {
        total += (chunk as Buffer).length;
        if (total > limits.maxUnzippedBytes)
          throw new ZipRefused(`"${name}" unpacks to over ${limits.maxUnzippedBytes} bytes`);
        yield chunk as Buffer;
      }
    } catch (err) {
      stream.destroy();
      if (err instanceof ZipRefused) throw err;
      throw new ZipRefused(`broken zip entry "${name}": ${(err as Error).message}`);
    }
  });
}

/** The names of a zip's files (directories left out), in the zip's order. */
export async function zipEntryNames(source: AsyncIterable<Buffer>, limits: ZipLimits): Promise<string[]> {
  const names: string[] = [];
  for await (const name of withZip(source, async function* (zip) {
    if (zip.entryCount > limits.maxEntries)
      throw new ZipRefused(`the zip holds over ${limits.maxEntries} entries`);
    yield* await new Promise<string[]>((resolve, reject) => {
      const found: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        if (!e.fileName.endsWith('/')) found.push(e.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(found));
      zip.on('error', (err: Error) => reject(new ZipRefused(`broken zip: ${err.message}`)));
      zip.readEntry();
    });
  }))
    names.push(name);
  return names;
}
