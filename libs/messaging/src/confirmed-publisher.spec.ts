import { EventEmitter } from 'node:events';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { BrokerUnavailableError, ErrorCode } from '@switchboard/contracts';
import type { AmqpConnection } from './amqp-connection';
import { ConfirmedPublisher } from './confirmed-publisher';

type Confirm = (err: unknown) => void;

/** A confirm channel whose broker answers are played by the test: confirm, nack, return, close. */
class FakeChannel extends EventEmitter {
  readonly published: Array<{ routingKey: string; messageId: string; confirm: Confirm; mandatory: boolean }> =
    [];
  publish(
    _exchange: string,
    routingKey: string,
    _body: Buffer,
    opts: { messageId: string; mandatory: boolean },
    confirm: Confirm,
  ): boolean {
    this.published.push({ routingKey, messageId: opts.messageId, confirm, mandatory: opts.mandatory });
    return true;
  }
  ack(i: number): void {
    this.published[i].confirm(null);
  }
  nack(i: number): void {
    this.published[i].confirm(new Error('nacked'));
  }
  /** The broker returns an unroutable mandatory message before it confirms it. */
  returnThenAck(i: number): void {
    this.emit('return', { properties: { messageId: this.published[i].messageId } });
    this.ack(i);
  }
}

async function publisherOn(ch: FakeChannel | null, timeoutMs = 1000, maxUnconfirmed = 100) {
  let hook: ((conn: ChannelModel) => Promise<void>) | null = null;
  const connection = { onConnect: (h: typeof hook) => (hook = h) } as unknown as AmqpConnection;
  const publisher = new ConfirmedPublisher(connection, timeoutMs, maxUnconfirmed);
  if (ch) {
    const conn = {
      createConfirmChannel: async () => ch as unknown as ConfirmChannel,
    } as unknown as ChannelModel;
    await hook!(conn);
  }
  return publisher;
}

const send = (p: ConfirmedPublisher, id: string) =>
  p.publish('x.events', 'website.order.submitted', Buffer.from('{}'), { messageId: id });

/** Guarantee 1 at the unit level: only a broker confirm of a routed message resolves; everything else is 503. */
describe('ConfirmedPublisher', () => {
  it('resolves once the broker confirms a routed, mandatory, persistent publish', async () => {
    const ch = new FakeChannel();
    const p = await publisherOn(ch);
    const sent = send(p, 'm1');
    expect(ch.published[0]).toMatchObject({ messageId: 'm1', mandatory: true });
    ch.ack(0);
    await expect(sent).resolves.toBeUndefined();
    expect(p.inFlight).toBe(0);
  });

  it('rejects with BROKER_UNAVAILABLE when the broker nacks', async () => {
    const ch = new FakeChannel();
    const p = await publisherOn(ch);
    const sent = send(p, 'm1');
    ch.nack(0);
    await expect(sent).rejects.toMatchObject({
      code: ErrorCode.BROKER_UNAVAILABLE,
      message: 'The broker refused the event.',
    });
  });

  it('rejects an unroutable message (returned, then confirmed) instead of accepting it', async () => {
    const ch = new FakeChannel();
    const p = await publisherOn(ch);
    const sent = send(p, 'm1');
    ch.returnThenAck(0);
    await expect(sent).rejects.toMatchObject({
      code: ErrorCode.BROKER_UNAVAILABLE,
      message: 'No queue is bound for this event.',
    });
  });

  it('rejects when the broker does not confirm in time', async () => {
    const ch = new FakeChannel();
    const p = await publisherOn(ch, 50);
    await expect(send(p, 'm1')).rejects.toMatchObject({
      code: ErrorCode.BROKER_UNAVAILABLE,
      message: 'The broker did not confirm the event in time.',
    });
    expect(p.inFlight).toBe(0);
  });

  it('rejects at once without a broker channel', async () => {
    const p = await publisherOn(null);
    await expect(send(p, 'm1')).rejects.toBeInstanceOf(BrokerUnavailableError);
  });

  it('rejects everything unconfirmed when the channel closes: unknown is not accepted', async () => {
    const ch = new FakeChannel();
    const p = await publisherOn(ch);
    const sent = [send(p, 'm1'), send(p, 'm2')];
    ch.emit('close');
    await expect(Promise.allSettled(sent)).resolves.toEqual([
      { status: 'rejected', reason: expect.any(BrokerUnavailableError) },
      { status: 'rejected', reason: expect.any(BrokerUnavailableError) },
    ]);
    expect(p.ready).toBe(false);
  });

  it('backpressure: at the unconfirmed limit nothing more is written; a stalled broker means 503 for all', async () => {
    const ch = new FakeChannel();
    const p = await publisherOn(ch, 100, 2);
    const all = Promise.allSettled([send(p, 'm1'), send(p, 'm2'), send(p, 'm3')]);
    await new Promise((r) => setImmediate(r));
    expect(ch.published.map((m) => m.messageId)).toEqual(['m1', 'm2']); // the third waits for a slot
    const results = await all;
    expect(results.map((r) => r.status === 'rejected' && (r.reason as BrokerUnavailableError).code)).toEqual([
      ErrorCode.BROKER_UNAVAILABLE,
      ErrorCode.BROKER_UNAVAILABLE,
      ErrorCode.BROKER_UNAVAILABLE,
    ]);
    expect(p.inFlight).toBe(0);
  });

  it('backpressure: a slot freed by a confirm lets the waiting caller through', async () => {
    const ch = new FakeChannel();
    const p = await publisherOn(ch, 1000, 1);
    const first = send(p, 'm1');
    const second = send(p, 'm2');
    expect(ch.published).toHaveLength(1);
    ch.ack(0);
    await first;
    await new Promise((r) => setImmediate(r));
    expect(ch.published).toHaveLength(2);
    ch.ack(1);
    await expect(second).resolves.toBeUndefined();
  });
});
