import type { ChannelModel } from 'amqplib';
import { Duplex, PassThrough } from 'node:stream';
import { coalesceWrites } from './coalesced-writes';

/* eslint-disable @typescript-eslint/no-require-imports -- amqplib's internals, as the patched code sees them */
const { Connection } = require('amqplib/lib/connection') as {
  Connection: new (s: Duplex) => { muxer: { pipeFrom(s: PassThrough): void } };
};
const { ChannelModel: Model } = require('amqplib/lib/channel_model') as {
  ChannelModel: new (c: unknown) => ChannelModel;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** A socket stand-in that records how it was written to. */
class Socket extends Duplex {
  readonly calls: Array<'write' | 'writev'> = [];
  readonly bytes: Buffer[] = [];
  _read(): void {}
  _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.calls.push('write');
    this.bytes.push(chunk);
    cb();
  }
  _writev(chunks: Array<{ chunk: Buffer }>, cb: () => void): void {
    this.calls.push('writev');
    for (const c of chunks) this.bytes.push(c.chunk);
    cb();
  }
}

/** A channel's outgoing frames, queued on one turn of the event loop, then the muxer's pass. */
async function sendThroughMuxer(patch: boolean): Promise<Socket> {
  const socket = new Socket();
  const connection = new Connection(socket);
  const model = new Model(connection);
  if (patch) expect(coalesceWrites(model)).toBe(true);
  const channel = new PassThrough({ objectMode: true });
  connection.muxer.pipeFrom(channel);
  for (const frame of ['one', 'two', 'three']) channel.write(Buffer.from(frame));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return socket;
}

describe('coalesceWrites (amqplib 0.10 muxer)', () => {
  it('sends the frames of one muxer pass in one writev, in order', async () => {
    const socket = await sendThroughMuxer(true);
    expect(socket.calls).toEqual(['writev']);
    expect(Buffer.concat(socket.bytes).toString()).toBe('onetwothree');
  });

  it('unpatched, the muxer writes each frame on its own (what the patch changes)', async () => {
    const socket = await sendThroughMuxer(false);
    expect(socket.calls).toEqual(['write', 'write', 'write']);
    expect(Buffer.concat(socket.bytes).toString()).toBe('onetwothree');
  });

  it('changes nothing on a connection of another shape', () => {
    expect(coalesceWrites({} as ChannelModel)).toBe(false);
    expect(coalesceWrites({ connection: { muxer: {} } } as unknown as ChannelModel)).toBe(false);
  });
});
