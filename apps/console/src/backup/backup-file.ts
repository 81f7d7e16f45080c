import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import * as forge from 'node-forge';
import { SecretBox, SecretDecryptError } from '@switchboard/secrets';

/**
 * The backup file: one clear header line, then the gzip'd dump encrypted with AES-256-GCM (node-forge) under a
 * random data key, then the 16-byte GCM tag.
 *
 *   SWITCHBOARD-BACKUP 1 {"keyId":"k2","dataKey":"sb1.k2.…","iv":"…","createdAt":"…"}\n <ciphertext> <tag>
 *
 * The data key is sealed with the master keyring (SecretBox, so the key id travels with it and a rotated
 * keyring still opens old backups while it keeps the key). The header line is the GCM's additional data: a
 * changed header fails like a changed byte of the dump. Both directions stream: the dump is never held whole.
 */
export const MAGIC = 'SWITCHBOARD-BACKUP 1 ';
const TAG_BYTES = 16;
const IV_BYTES = 12;
const MAX_HEADER_BYTES = 4096;

export interface BackupHeader {
  keyId: string;
  dataKey: string;
  iv: string;
  createdAt: string;
}

/** A backup that cannot be read or trusted; the message says what to do. */
export class BackupError extends Error {
  constructor(
    readonly code: 'BACKUP_MALFORMED' | 'BACKUP_TAMPERED' | 'BACKUP_WRONG_KEY' | 'BACKUP_REFUSED',
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

const bin = (b: Buffer): string => b.toString('binary');
const dataKeyContext = (iv: string) => `switchboard-backup:${iv}`;

/** Feeds chunks through a forge cipher and passes on what it outputs; `finish` runs at the end. */
class ForgeTransform extends Transform {
  constructor(
    private readonly cipher: forge.cipher.BlockCipher,
    private readonly finish: (push: (b: Buffer) => void) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.cipher.update(forge.util.createBuffer(bin(chunk)));
    const out = this.cipher.output.getBytes();
    if (out.length) this.push(Buffer.from(out, 'binary'));
    done();
  }
  override _flush(done: TransformCallback): void {
    try {
      this.finish((b) => this.push(b));
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

/** The header line and a transform that encrypts what follows it (and appends the tag). */
export function encryptor(box: SecretBox): { headerLine: Buffer; encrypt: Transform } {
  const key = randomBytes(32);
  const iv = randomBytes(IV_BYTES);
  const ivText = iv.toString('base64');
  const header: BackupHeader = {
    keyId: box.primaryKeyId,
    dataKey: box.seal(key, dataKeyContext(ivText)),
    iv: ivText,
    createdAt: new Date().toISOString(),
  };
  const headerLine = Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`, 'utf8');
  const cipher = forge.cipher.createCipher('AES-GCM', bin(key));
  cipher.start({ iv: bin(iv), additionalData: bin(headerLine), tagLength: TAG_BYTES * 8 });
  key.fill(0);
  const encrypt = new ForgeTransform(cipher, (push) => {
    cipher.finish();
    const rest = cipher.output.getBytes();
    if (rest.length) push(Buffer.from(rest, 'binary'));
    push(Buffer.from(cipher.mode.tag.getBytes(), 'binary'));
  });
  return { headerLine, encrypt };
}

/** The header of a backup file, the byte range of its ciphertext, and its tag (read from the end). */
async function readFrame(
  file: string,
): Promise<{ header: BackupHeader; headerLine: Buffer; start: number; end: number; tag: Buffer }> {
  const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new BackupError('BACKUP_MALFORMED', `Cannot open ${file}: ${err.code ?? err.message}.`);
  });
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(MAX_HEADER_BYTES, size));
    await fh.read(head, 0, head.length, 0);
    const newline = head.indexOf(0x0a);
    if (!head.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC)) || newline < 0)
      throw new BackupError(
        'BACKUP_MALFORMED',
        `${file} is not a Switchboard backup (no "${MAGIC.trim()}" header).`,
      );
    const headerLine = head.subarray(0, newline + 1);
    let header: BackupHeader;
    try {
      header = JSON.parse(headerLine.subarray(MAGIC.length).toString('utf8')) as BackupHeader;
    } catch {
      throw new BackupError('BACKUP_MALFORMED', `${file}: the backup header is not valid JSON.`);
    }
    if (typeof header.dataKey !== 'string' || typeof header.iv !== 'string')
      throw new BackupError('BACKUP_MALFORMED', `${file}: the backup header lacks its data key or IV.`);
    if (size < headerLine.length + TAG_BYTES)
      throw new BackupError(
        'BACKUP_TAMPERED',
        `${file} is truncated: it ends before its authentication tag.`,
      );
    const tag = Buffer.alloc(TAG_BYTES);
    await fh.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
    return { header, headerLine, start: headerLine.length, end: size - TAG_BYTES, tag };
  } finally {
    await fh.close();
  }
}

/**
 * The decrypted bytes of a backup as a stream, and `authentic()`, which the caller awaits after reading to the
 * end: only then is every byte known to be the one written (GCM checks the tag at the end). Nothing read from
 * the stream may be committed anywhere before authentic() resolved.
 */
export async function decryptor(
  file: string,
  box: SecretBox,
): Promise<{ header: BackupHeader; plain: Readable; authentic: () => void }> {
  const { header, headerLine, start, end, tag } = await readFrame(file);
  let key: Buffer;
  try {
    key = box.open(header.dataKey, dataKeyContext(header.iv));
  } catch (err) {
    if (!(err instanceof SecretDecryptError)) throw err;
    throw new BackupError(
      err.code === 'SECRET_MALFORMED' ? 'BACKUP_MALFORMED' : 'BACKUP_WRONG_KEY',
      err.code === 'SECRET_KEY_MISSING'
        ? `The backup is encrypted under master key "${header.keyId}", which is not in this keyring (SWITCHBOARD_MASTER_KEYS): add that key.`
        : `The backup's data key does not open with master key "${header.keyId}" of this keyring: a different key under the same id, or an altered header.`,
    );
  }
  const decipher = forge.cipher.createDecipher('AES-GCM', bin(key));
  decipher.start({
    iv: bin(Buffer.from(header.iv, 'base64')),
    additionalData: bin(headerLine),
    tag: forge.util.createBuffer(bin(tag)),
    tagLength: TAG_BYTES * 8,
  });
  key.fill(0);
  let verdict: boolean | null = null;
  const decrypt = new ForgeTransform(decipher, (push) => {
    verdict = decipher.finish();
    const rest = decipher.output.getBytes();
    if (verdict && rest.length) push(Buffer.from(rest, 'binary'));
  });
  // A gzip stream is never empty, so there is always at least one byte of ciphertext to read.
  const source = createReadStream(file, { start, end: Math.max(start, end - 1) });
  source.on('error', (err) => decrypt.destroy(err));
  const plain = source.pipe(decrypt);
  return {
    header,
    plain,
    authentic: () => {
      if (verdict !== true)
        throw new BackupError(
          'BACKUP_TAMPERED',
          'The backup failed authentication: it was altered or damaged after it was written.',
        );
    },
  };
}
