import type { ChannelModel } from 'amqplib';

/** The parts of amqplib 0.10's connection this touches (not in its typings). */
interface MuxedConnection {
  stream?: { cork?: () => void; uncork?: () => void };
  muxer?: { _readIncoming?: () => void };
}

/**
 * Makes one write to the socket of everything amqplib's muxer sends in one pass, instead of one write per frame.
 *
 * amqplib queues each outgoing message (method, header and body in one buffer) or method on its channel's stream,
 * and its muxer, in a setImmediate after them, writes every queued chunk to the socket in a loop: one `write()`
 * syscall per message. A gateway under load publishes dozens of messages per turn of the event loop, and those
 * syscalls were ~8 % of its CPU (loopback TCP runs the broker side's receive path in the sender's call). Corked
 * for the length of the pass, the socket sends them with one `writev()`. Nothing waits for it: the uncork is at
 * the end of the same pass, and back-pressure is unchanged (`write()` still returns false past the socket's
 * high-water mark, and the muxer waits for 'drain' as before).
 *
 * Returns false, changing nothing, when the connection does not have the shape of amqplib 0.10 (a test checks
 * that the pinned version does).
 */
export function coalesceWrites(model: ChannelModel): boolean {
  const connection = (model as unknown as { connection?: MuxedConnection }).connection;
  const stream = connection?.stream;
  const muxer = connection?.muxer;
  const pass = muxer?._readIncoming;
  if (!stream || !muxer || typeof pass !== 'function') return false;
  const { cork, uncork } = stream;
  if (typeof cork !== 'function' || typeof uncork !== 'function') return false;
  muxer._readIncoming = function readIncomingCorked(this: unknown) {
    cork.call(stream);
    try {
      pass.call(this);
    } finally {
      uncork.call(stream);
    }
  };
  return true;
}
