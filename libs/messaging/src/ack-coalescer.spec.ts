import type { Channel, ConsumeMessage } from 'amqplib';
import { AckCoalescer } from './ack-coalescer';

/** What the broker is told: each ack's tag and whether it settles everything up to it. */
function recordingChannel() {
  const acks: Array<[number, boolean]> = [];
  const ch = {
    ack: (msg: ConsumeMessage, allUpTo?: boolean) => {
      acks.push([msg.fields.deliveryTag, allUpTo === true]);
    },
  } as Pick<Channel, 'ack'>;
  return { ch, acks };
}

/** The tags a sequence of acks settles on the broker (a multiple ack: every unsettled tag up to its own). */
// As RabbitMQ's channel does it: the tag of any ack, multiple or not, must itself be unacked (else it closes the
// channel with PRECONDITION_FAILED "unknown delivery tag"). `nacked`: settled by a nack, so no longer unacked.
function settledByBroker(
  acks: Array<[number, boolean]>,
  delivered: number[],
  nacked: number[] = [],
): number[] {
  const done = new Set<number>(nacked);
  for (const [tag, multiple] of acks) {
    if (done.has(tag) || !delivered.includes(tag)) throw new Error(`unknown delivery tag ${tag}`);
    if (multiple) for (const t of delivered) if (t <= tag) done.add(t);
    done.add(tag);
  }
  return [...done].filter((t) => !nacked.includes(t)).sort((a, b) => a - b);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('AckCoalescer', () => {
  it('acks a batch settled in one tick with one multiple ack', async () => {
    const { ch, acks } = recordingChannel();
    const c = new AckCoalescer(ch);
    for (let t = 1; t <= 100; t++) c.delivery(t);
    for (let t = 1; t <= 100; t++) c.settle(t, true);
    expect(acks).toEqual([]);
    await tick();
    expect(acks).toEqual([[100, true]]);
  });

  it('never covers a delivery still being handled: the settled ones beyond it are acked singly, at once', async () => {
    const { ch, acks } = recordingChannel();
    const c = new AckCoalescer(ch);
    for (let t = 1; t <= 6; t++) c.delivery(t);
    for (const t of [1, 2, 4, 6]) c.settle(t, true);
    await tick();
    expect(acks).toEqual([
      [2, true],
      [4, false],
      [6, false],
    ]);
    // 3 finishes later: only it is acked (4 and 6 were acked already), and 5 is still open.
    c.settle(3, true);
    await tick();
    expect(settledByBroker(acks, [1, 2, 3, 4, 5, 6])).toEqual([1, 2, 3, 4, 6]);
    c.settle(5, true);
    await tick();
    expect(settledByBroker(acks, [1, 2, 3, 4, 5, 6])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(acks.slice(3)).toEqual([
      [3, true],
      [5, true],
    ]);
  });

  it('passes over nacked deliveries without acking them again', async () => {
    const { ch, acks } = recordingChannel();
    const c = new AckCoalescer(ch);
    for (let t = 1; t <= 3; t++) c.delivery(t);
    c.settle(2, false); // nacked by the caller itself
    c.settle(1, true);
    await tick();
    // Not up to 2: the nacked 2 is no longer unacked on the broker, and a tag it does not know closes the channel.
    expect(acks).toEqual([[1, true]]);
    c.settle(3, true);
    await tick();
    expect(acks.slice(1)).toEqual([[3, true]]);
    expect(settledByBroker(acks, [1, 2, 3], [2])).toEqual([1, 3]);
  });

  it('names an unacked tag in every ack when acks beyond a slow delivery went singly (a retried message)', async () => {
    const { ch, acks } = recordingChannel();
    const c = new AckCoalescer(ch);
    const delivered = Array.from({ length: 21 }, (_, i) => i + 1);
    delivered.forEach((t) => c.delivery(t));
    // The batch fails on 1, the others commit alone first; 1 is moved to the retry queue and acked last.
    for (const t of delivered.slice(1)) c.settle(t, true);
    await tick();
    c.settle(1, true);
    await tick();
    expect(acks.at(-1)).toEqual([1, true]);
    expect(settledByBroker(acks, delivered)).toEqual(delivered);
  });

  it('sends nothing once its channel is closed, and survives a channel that throws', async () => {
    const { ch, acks } = recordingChannel();
    const closed = new AckCoalescer(ch);
    closed.delivery(1);
    closed.settle(1, true);
    closed.close();
    await tick();
    expect(acks).toEqual([]);

    const throwing = new AckCoalescer({
      ack: () => {
        throw new Error('Channel closed');
      },
    });
    throwing.delivery(1);
    throwing.settle(1, true);
    await tick();
    throwing.flush();
  });

  it('keeps a long run bounded and in order', async () => {
    const { ch, acks } = recordingChannel();
    const c = new AckCoalescer(ch);
    const all: number[] = [];
    for (let round = 0; round < 50; round++) {
      const tags = Array.from({ length: 100 }, (_, i) => round * 100 + i + 1);
      tags.forEach((t) => c.delivery(t));
      all.push(...tags);
      // settled out of order within the round
      [...tags].reverse().forEach((t) => c.settle(t, true));
      await tick();
    }
    expect(acks.every(([, multiple]) => multiple)).toBe(true);
    expect(acks).toHaveLength(50);
    expect(settledByBroker(acks, all)).toEqual(all);
  });
});
