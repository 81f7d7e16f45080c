import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the broker needs besides the bytes. */
export interface SpooledHead {
  id: string;
  type: string;
  traceId: string;
}

/**
 * The events of one 1C file, serialized while the file is parsed and published only after the parse ended
 * without an error: the file is read once, yet a file that fails to parse publishes nothing. A private temp
 * file (not memory: 100,000 offers are ~100 MB of events), deleted by close(); a replica that dies leaves it
 * in its temp directory, and the replica that takes the import over parses the file again into its own spool.
 * Frames: u32 head length, head JSON, u32 body length, body (the envelope's JSON, published as is).
 */
export class EventSpool {
  private file: FileHandle | null = null;
  private dir: string | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  count = 0;

  async open(): Promise<this> {
    this.dir = await mkdtemp(join(tmpdir(), 'sb-1c-spool-'));
    this.file = await open(join(this.dir, 'events'), 'w+', 0o600);
    return this;
  }

  /** The spool's file: a parse worker writes it (openAt), this process publishes from it. */
  get path(): string {
    if (!this.dir) throw new Error('event spool: not open');
    return join(this.dir, 'events');
  }

  /** A writer on another thread's spool file (its owner deletes it); seal() when done. */
  static async openAt(path: string): Promise<EventSpool> {
    const spool = new EventSpool();
    spool.file = await open(path, 'w', 0o600);
    return spool;
  }

  /** Writes what is pending and lets go of the file (the writer's end; the owner's close() deletes it). */
  async seal(): Promise<void> {
    await this.flush();
    await this.file?.close();
    this.file = null;
  }

  /** Appends one event; writes reach the disk in ~1 MiB pieces. */
  async append(head: SpooledHead, body: Buffer): Promise<void> {
    const h = Buffer.from(JSON.stringify(head));
    const frame = Buffer.allocUnsafe(8 + h.length);
    frame.writeUInt32BE(h.length, 0);
    h.copy(frame, 4);
    frame.writeUInt32BE(body.length, 4 + h.length);
    this.pending.push(frame, body);
    this.pendingBytes += frame.length + body.length;
    this.count++;
    if (this.pendingBytes >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.file || this.pending.length === 0) return;
    const parts = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.file.writev(parts);
  }

  /**
   * Every event in the order appended, each read into a buffer of its own size (positional reads): only the
   * events being published are in memory, not the read-ahead chunks they would otherwise pin.
   */
  async *events(): AsyncGenerator<{ head: SpooledHead; body: Buffer }> {
    await this.flush();
    if (!this.dir) return;
    const file = await open(this.path, 'r');
    try {
      const size = (await file.stat()).size;
      const exactly = async (at: number, length: number): Promise<Buffer> => {
        if (at + length > size) throw new Error(`event spool: a truncated frame at byte ${at}`);
        const buf = Buffer.allocUnsafeSlow(length);
        for (let got = 0; got < length;) {
          const { bytesRead } = await file.read(buf, got, length - got, at + got);
          if (bytesRead === 0) throw new Error(`event spool: a truncated frame at byte ${at}`);
          got += bytesRead;
        }
        return buf;
      };
      for (let at = 0; at < size;) {
        const hl = (await exactly(at, 4)).readUInt32BE(0);
        const head = JSON.parse((await exactly(at + 4, hl)).toString('utf8')) as SpooledHead;
        const bl = (await exactly(at + 4 + hl, 4)).readUInt32BE(0);
        const body = await exactly(at + 8 + hl, bl);
        at += 8 + hl + bl;
        yield { head, body };
      }
    } finally {
      await file.close();
    }
  }

  async close(): Promise<void> {
    await this.file?.close().catch(() => undefined);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.file = null;
    this.dir = null;
  }
}
