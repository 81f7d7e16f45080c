import type { GetMessage } from 'amqplib';
import { eventually, order, TestSystem } from './support/system';

/** Invariant 3: a poison message ends in the DLQ with its error after the configured attempts; others flow. */
describe('dead-lettering', () => {
  // config/test.json: retry ladder 200 ms, 400 ms -> 3 attempts.
  const sys = new TestSystem('dead-letter', { FAULT_FAIL_ORDER_PREFIX: 'POISON-' });
  let dlq: string;

  beforeAll(async () => {
    await sys.start(['gateway', 'website-connector']);
    dlq = sys.queue('website-connector', 'dlq');
  });
  afterAll(() => sys.destroy());

  async function takeDeadLetters(): Promise<GetMessage[]> {
    return sys.withChannel(async (ch) => {
      const out: GetMessage[] = [];
      for (let m = await ch.get(dlq, { noAck: true }); m; m = await ch.get(dlq, { noAck: true })) out.push(m);
      return out;
    });
  }

  it('retries a failing message, then dead-letters it with its error, while other messages keep flowing', async () => {
    // Posted together, so the poison order shares a batch (one transaction) with healthy ones.
    const poison = order({ externalId: 'POISON-1' });
    const healthy = Array.from({ length: 20 }, () => order());
    const [res, ...rest] = await Promise.all(
      [poison, ...healthy].map((o) => sys.post('/v1/website/orders', o)),
    );
    expect(res.status).toBe(202);
    expect(rest.map((r) => r.status)).toEqual(healthy.map(() => 202));
    const { eventId } = (await res.json()) as { eventId: string };
    const flowed = await eventually(async () => {
      const [{ n }] = await sys.sql<{ n: string }>(
        `SELECT count(*) n FROM deals WHERE external_id = ANY($1)`,
        [healthy.map((o) => o.externalId)],
      );
      return Number(n) === healthy.length;
    });
    expect(flowed).toBe(true);

    expect(await eventually(async () => (await sys.queueDepth(dlq)) === 1, 15_000)).toBe(true);
    const [dead] = await takeDeadLetters();
    const headers = dead.properties.headers!;
    expect(headers['x-error-code']).toBe('HANDLER_FAILED');
    expect(String(headers['x-error-message'])).toContain('injected fault for POISON-1');
    expect(headers['x-attempts']).toBe(3);
    expect(headers['x-original-routing-key']).toBe('website.order.submitted');
    expect(headers['x-original-message-id']).toBe(eventId);
    const envelope = JSON.parse(dead.content.toString());
    expect(envelope).toMatchObject({
      id: eventId,
      type: 'website.order.submitted',
      payload: { externalId: 'POISON-1' },
    });

    expect(await sys.sql(`SELECT 1 FROM deals WHERE external_id = 'POISON-1'`)).toEqual([]);
    expect(await sys.queueDepth(sys.queue('website-connector'))).toBe(0);
  });

  it('dead-letters malformed and contract-violating messages at once, without retries', async () => {
    const envelope = {
      id: '01900000-0000-7000-8000-000000000001',
      type: 'website.order.submitted',
      peerId: 'x',
      idempotencyKey: 'k',
      occurredAt: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
      schemaVersion: 1,
      traceId: 't',
      payload: { externalId: 42 },
    };
    await sys.publishRaw([
      { routingKey: 'website.order.submitted', content: 'not json at all', options: { messageId: 'm1' } },
      {
        routingKey: 'website.order.submitted',
        content: JSON.stringify(envelope),
        options: { messageId: 'm2' },
      },
      {
        routingKey: 'website.order.cancelled',
        content: JSON.stringify({ ...envelope, type: 'website.order.cancelled' }),
        options: { messageId: 'm3' },
      },
    ]);
    expect(await eventually(async () => (await sys.queueDepth(dlq)) === 3, 10_000)).toBe(true);
    const dead = await takeDeadLetters();
    const byId = Object.fromEntries(
      dead.map((d) => [d.properties.headers!['x-original-message-id'], d.properties.headers!]),
    );
    expect(byId.m1).toMatchObject({ 'x-error-code': 'MALFORMED_MESSAGE', 'x-attempts': 1 });
    expect(byId['01900000-0000-7000-8000-000000000001'] ?? byId.m2).toMatchObject({
      'x-error-code': 'VALIDATION_FAILED',
      'x-attempts': 1,
    });
    expect(byId.m3).toMatchObject({ 'x-error-code': 'UNKNOWN_EVENT_TYPE', 'x-attempts': 1 });
  });

  it('lists dead letters with their error and replays them once the cause is fixed', async () => {
    const poison = order({ externalId: 'POISON-2' });
    expect((await sys.post('/v1/website/orders', poison)).status).toBe(202);
    expect(await eventually(async () => (await sys.queueDepth(dlq)) === 1, 15_000)).toBe(true);

    const listed = await sys.cli('dlq-list', 'website-connector');
    expect(listed.deadLetters).toHaveLength(1);
    expect(listed.deadLetters[0]).toMatchObject({
      routingKey: 'website.order.submitted',
      errorCode: 'HANDLER_FAILED',
      attempts: 3,
    });
    expect(await sys.queueDepth(dlq)).toBe(1); // listing leaves them in place

    // "Fix" the cause: the connector comes back without the fault.
    await sys.app('website-connector').kill('SIGTERM');
    await sys.startApp('website-connector', { FAULT_FAIL_ORDER_PREFIX: undefined });

    // Keep a copy of the dead letter (read and put back) to replay it a second time below.
    const copy = await sys.withChannel(async (ch) => {
      const m = (await ch.get(dlq, { noAck: false })) as GetMessage;
      ch.nack(m, false, true);
      return {
        content: m.content,
        headers: m.properties.headers,
        messageId: m.properties.messageId as string,
      };
    });
    expect(await eventually(async () => (await sys.queueDepth(dlq)) === 1)).toBe(true);

    const replay = await sys.cli('dlq-replay', 'website-connector');
    expect(replay.replayed).toBe(1);
    const done = await eventually(async () => {
      const rows = await sys.sql(`SELECT 1 FROM deals WHERE external_id = 'POISON-2'`);
      return rows.length === 1;
    });
    expect(done).toBe(true);
    expect(await sys.queueDepth(dlq)).toBe(0);
    expect(await sys.sql(`SELECT 1 FROM deals WHERE external_id = 'POISON-2'`)).toHaveLength(1);

    // Replaying the same dead letter again (an operator repeating the replay) changes nothing: the inbox absorbs it.
    const before = await sys.consumed('website-connector');
    await sys.publishRaw([
      {
        exchange: '',
        routingKey: dlq,
        content: copy.content,
        options: { headers: copy.headers, messageId: copy.messageId },
      },
    ]);
    expect((await sys.cli('dlq-replay', 'website-connector')).replayed).toBe(1);
    await sys.consumedOk('website-connector', before, 1);
    expect(await sys.sql(`SELECT 1 FROM deals WHERE external_id = 'POISON-2'`)).toHaveLength(1);
    const envelopeId = (JSON.parse(copy.content.toString()) as { id: string }).id;
    expect(await sys.sql(`SELECT 1 FROM processed_events WHERE event_id = $1`, [envelopeId])).toHaveLength(1);
    expect(await sys.queueDepth(dlq)).toBe(0);
  });

  it('dead-letters an order whose customer has neither a valid phone nor an email, at once', async () => {
    // The contract accepts any phone string; only the connector's normalization finds it unusable.
    const o = order({ externalId: 'NOCONTACT-1', customer: { name: 'Nobody', phone: 'call me maybe' } });
    const res = await sys.post('/v1/website/orders', o);
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    expect(await eventually(async () => (await sys.queueDepth(dlq)) === 1, 15_000)).toBe(true);
    const [dead] = await takeDeadLetters();
    expect(dead.properties.headers).toMatchObject({
      'x-error-code': 'VALIDATION_FAILED',
      'x-attempts': 1,
      'x-original-message-id': eventId,
    });
    expect(String(dead.properties.headers!['x-error-message'])).toContain('neither a valid phone nor email');
    expect(await sys.sql(`SELECT 1 FROM deals WHERE external_id = 'NOCONTACT-1'`)).toEqual([]);
  });
});

/**
 * A message that keeps crashing its consumer before any ack never gets a retry header: the quorum queue's
 * delivery limit (AMQP_DELIVERY_LIMIT) dead-letters it. The "crashing consumer" here is a raw channel that
 * returns every delivery unacked; no connector runs.
 */
describe('quorum delivery limit', () => {
  const sys = new TestSystem('delivery-limit', { AMQP_DELIVERY_LIMIT: '2' });

  beforeAll(() => sys.start(['gateway']));
  afterAll(() => sys.destroy());

  it('dead-letters a message returned unacked more often than the limit', async () => {
    const o = order();
    const res = await sys.post('/v1/website/orders', o);
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    const main = sys.queue('website-connector');
    const dlq = sys.queue('website-connector', 'dlq');
    let deliveries = 0;
    await sys.withChannel(async (ch) => {
      for (let i = 0; i < 10 && (await sys.queueDepth(dlq)) === 0; i++) {
        const m = await ch.get(main, { noAck: false });
        if (m) {
          deliveries++;
          ch.nack(m, false, true);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    expect(await eventually(async () => (await sys.queueDepth(dlq)) === 1, 10_000)).toBe(true);
    expect(deliveries).toBe(3); // the first delivery and two returns within the limit of 2
    const dead = await sys.withChannel(async (ch) => (await ch.get(dlq, { noAck: true })) as GetMessage);
    expect(JSON.parse(dead.content.toString())).toMatchObject({ id: eventId });
    expect(dead.properties.headers!['x-first-death-reason']).toBe('delivery_limit');
    expect(await sys.queueDepth(main)).toBe(0);
  });
});
