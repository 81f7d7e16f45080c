import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, order, pool, ROOT, TestSystem } from './support/system';

/** ARCHITECTURE §2: 202 -> contact + deal; effectively once; order tolerance. */
describe('website order pipeline', () => {
  const sys = new TestSystem('order-pipeline');

  beforeAll(async () => {
    await sys.start();
    await sys.sql(`INSERT INTO managers (name, extension) VALUES ('Maria', '101'), ('Oleg', '102')`);
  });
  afterAll(() => sys.destroy());

  const dealsOf = (externalId: string) =>
    sys
      .consoleGet(`/v1/crm/deals?externalId=${encodeURIComponent(externalId)}`)
      .then((r) => r.body.items as any[]);

  it('turns a valid order into one contact and one deal, readable through the console API', async () => {
    const o = order({
      customer: { name: 'Anna Petrova', phone: '8 (912) 345-67-89', email: 'Anna@Example.com' },
    });
    const res = await sys.post('/v1/website/orders', o);
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-request-id')).toBeTruthy();

    const deals = await eventually(() => dealsOf(o.externalId as string).then((d) => (d.length ? d : null)));
    expect(deals).toHaveLength(1);
    const [deal] = deals!;
    expect(deal).toMatchObject({
      externalId: o.externalId,
      status: 'new',
      currency: 'RUB',
      lastEventId: eventId,
    });
    expect(Number(deal.amount)).toBe(2001);
    expect(deal.items.map((i: any) => [i.sku, i.quantity, Number(i.price)])).toEqual([
      ['KET-1', 1, 1500],
      ['MUG-2', 2, 250.5],
    ]);

    const byPhone = await sys.consoleGet('/v1/crm/contacts?phone=%2B79123456789');
    expect(byPhone.body.items).toHaveLength(1);
    const contact = byPhone.body.items[0];
    expect(contact).toMatchObject({
      name: 'Anna Petrova',
      phones: ['+79123456789'],
      emails: ['anna@example.com'],
    });
    expect(contact.responsibleManagerId).toBeTruthy();

    const card = await sys.consoleGet(`/v1/crm/contacts/${contact.id}`);
    expect(card.status).toBe(200);
    expect(card.body.deals.map((d: any) => d.externalId)).toEqual([o.externalId]);
  });

  it('matches the same customer however the phone is written', async () => {
    const a = order({ customer: { name: 'Ivan', phone: '+7 903 111-22-33' } });
    const b = order({ customer: { phone: '8 (903) 1112233', email: 'ivan@example.com' } });
    expect((await sys.post('/v1/website/orders', a)).status).toBe(202);
    await eventually(() => dealsOf(a.externalId as string).then((d) => d.length === 1));
    expect((await sys.post('/v1/website/orders', b)).status).toBe(202);
    await eventually(() => dealsOf(b.externalId as string).then((d) => d.length === 1));
    const contacts = await sys.sql<{ id: string; emails: string[] }>(
      `SELECT id, emails FROM contacts WHERE phones @> ARRAY['+79031112233']`,
    );
    expect(contacts).toHaveLength(1);
    expect(contacts[0].emails).toEqual(['ivan@example.com']);
    const [da, db] = [await dealsOf(a.externalId as string), await dealsOf(b.externalId as string)];
    expect(da[0].contactId).toBe(contacts[0].id);
    expect(db[0].contactId).toBe(contacts[0].id);
  });

  it('makes one card for one new customer however many of their orders arrive at once', async () => {
    const customer = { name: 'Rush Buyer', phone: '+7 999 000-11-22', email: 'rush@example.com' };
    const orders = Array.from({ length: 30 }, (_, i) =>
      order({ customer: i % 2 ? customer : { ...customer, phone: '8 (999) 000-11-22', email: undefined } }),
    );
    const statuses = await pool(
      orders.length,
      30,
      async (i) => (await sys.post('/v1/website/orders', orders[i])).status,
    );
    expect(statuses.every((s) => s === 202)).toBe(true);
    const done = await eventually(async () => {
      const [{ n }] = await sys.sql<{ n: string }>(
        `SELECT count(*) n FROM deals WHERE external_id = ANY($1)`,
        [orders.map((o) => o.externalId)],
      );
      return Number(n) === orders.length;
    });
    expect(done).toBe(true);
    const cards = await sys.sql<{ id: string; emails: string[] }>(
      `SELECT id, emails FROM contacts WHERE phones @> ARRAY['+79990001122']`,
    );
    expect(cards).toHaveLength(1);
    expect(cards[0].emails).toEqual(['rush@example.com']);
    const [{ n }] = await sys.sql<{ n: string }>(
      `SELECT count(DISTINCT contact_id) n FROM deals WHERE external_id = ANY($1)`,
      [orders.map((o) => o.externalId)],
    );
    expect(Number(n)).toBe(1);
  });

  it('keeps one deal when the same order is posted three times and its message is redelivered', async () => {
    const o = order();
    const before = await sys.consumed('website-connector');
    const ids: string[] = [];
    // A peer's retries carry its Idempotency-Key. The third "retry" differs (a later version, paid): if the key
    // did not deduplicate, it would be applied as a newer version and the deal would turn paid.
    const key = `retry-${o.externalId as string}`;
    const newer = {
      ...o,
      status: 'paid',
      updatedAt: '2030-01-01T00:00:00.000Z',
      paidAt: '2030-01-01T00:00:00.000Z',
    };
    for (const body of [o, o, newer]) {
      const res = await sys.post('/v1/website/orders', body, { 'idempotency-key': key });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { eventId: string }).eventId);
    }
    expect(new Set(ids).size).toBe(3);
    // All three messages were consumed (not merely the first): only then does "one deal" prove the dedupe.
    await sys.consumedOk('website-connector', before, 3);
    const [{ n: markers }] = await sys.sql<{ n: string }>(
      `SELECT count(*) n FROM processed_events WHERE event_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(Number(markers)).toBe(1);
    expect((await dealsOf(o.externalId as string)).map((d) => d.status)).toEqual(['new']);

    // Redelivery: the very same envelope arrives again (as after a consumer crash before its ack).
    // Which of the two identical retries was applied depends on how they were batched; never the newer third.
    const [marker] = await sys.sql<{ event_id: string; idempotency_key: string; outcome: string }>(
      `SELECT event_id, idempotency_key, outcome FROM processed_events WHERE event_id = ANY($1::uuid[])`,
      [ids],
    );
    expect(ids.slice(0, 2)).toContain(marker.event_id);
    expect(marker.outcome).toBe('created');
    const deal = (await dealsOf(o.externalId as string))[0];
    expect(deal.lastEventId).toBe(marker.event_id);
    const applied = marker.event_id;
    const beforeRedelivery = await sys.consumed('website-connector');
    const envelope = {
      id: applied,
      type: 'website.order.submitted',
      peerId: sys.peerId,
      idempotencyKey: marker.idempotency_key,
      occurredAt: o.updatedAt,
      receivedAt: new Date().toISOString(),
      schemaVersion: 1,
      traceId: 'redelivery-test',
      payload: o,
    };
    await sys.publishRaw([
      {
        routingKey: 'website.order.submitted',
        content: JSON.stringify(envelope),
        options: { messageId: applied },
      },
    ]);
    // The redelivered message was consumed (acked as ok): now its having changed nothing means something.
    await sys.consumedOk('website-connector', beforeRedelivery, 1);
    // Recognised as already processed: not applied again (which would have recorded it as `stale` now).
    expect(
      (
        await sys.sql<{ outcome: string }>(`SELECT outcome FROM processed_events WHERE event_id = $1`, [
          applied,
        ])
      )[0].outcome,
    ).toBe('created');

    expect(await dealsOf(o.externalId as string)).toHaveLength(1);
    const [{ n }] = await sys.sql<{ n: string }>(`SELECT count(*) n FROM deals WHERE external_id = $1`, [
      o.externalId,
    ]);
    expect(Number(n)).toBe(1);
    const [{ items }] = await sys.sql<{ items: string }>(
      `SELECT count(*) items FROM deal_items i JOIN deals d ON d.id = i.deal_id WHERE d.external_id = $1`,
      [o.externalId],
    );
    expect(Number(items)).toBe(2);
  });

  it('applies a later status and ignores an older one that arrives afterwards', async () => {
    const base = order({ status: 'new', updatedAt: '2026-11-20T10:00:00.000Z' });
    const paid = {
      ...base,
      status: 'paid',
      updatedAt: '2026-11-20T12:00:00.000Z',
      paidAt: '2026-11-20T12:00:00.000Z',
    };
    const processing = { ...base, status: 'processing', updatedAt: '2026-11-20T11:00:00.000Z' };

    expect((await sys.post('/v1/website/orders', base)).status).toBe(202);
    await eventually(() => dealsOf(base.externalId as string).then((d) => d[0]?.status === 'new'));
    expect((await sys.post('/v1/website/orders', paid)).status).toBe(202);
    await eventually(() => dealsOf(base.externalId as string).then((d) => d[0]?.status === 'paid'));

    const res = await sys.post('/v1/website/orders', processing);
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    await eventually(async () => {
      const rows = await sys.sql<{ outcome: string }>(
        `SELECT outcome FROM processed_events WHERE event_id = $1`,
        [eventId],
      );
      return rows[0]?.outcome === 'stale';
    });
    const [deal] = await dealsOf(base.externalId as string);
    expect(deal.status).toBe('paid');
    expect(deal.paidAt).toBe('2026-11-20T12:00:00.000Z');
  });

  it("a newer version replaces the deal's items; other deals keep theirs", async () => {
    const other = order({ updatedAt: '2026-11-22T09:00:00.000Z' });
    const base = order({
      updatedAt: '2026-11-22T10:00:00.000Z',
      items: [
        { sku: 'OLD-1', name: 'Old one', quantity: 1, price: 10 },
        { sku: 'OLD-2', name: 'Old two', quantity: 2, price: 20 },
      ],
      total: 50,
    });
    const newer = {
      ...base,
      updatedAt: '2026-11-22T11:00:00.000Z',
      items: [{ sku: 'NEW-1', name: 'New one', quantity: 3, price: 5 }],
      total: 15,
    };
    const itemsOf = (externalId: unknown) =>
      sys.sql<{ sku: string; quantity: number; position: number }>(
        `SELECT i.sku, i.quantity, i.position FROM deal_items i JOIN deals d ON d.id = i.deal_id
          WHERE d.external_id = $1 ORDER BY i.position`,
        [externalId],
      );
    expect((await sys.post('/v1/website/orders', other)).status).toBe(202);
    expect((await sys.post('/v1/website/orders', base)).status).toBe(202);
    await eventually(async () => (await itemsOf(base.externalId)).length === 2);
    const otherItems = await itemsOf(other.externalId);
    expect(otherItems.length).toBeGreaterThan(0);
    expect((await sys.post('/v1/website/orders', newer)).status).toBe(202);
    await eventually(async () => (await itemsOf(base.externalId))[0]?.sku === 'NEW-1');
    expect(await itemsOf(base.externalId)).toEqual([{ sku: 'NEW-1', quantity: 3, position: 1 }]);
    expect(await itemsOf(other.externalId)).toEqual(otherItems);
  });

  it('records a version with an equal updatedAt as stale and keeps the stored one', async () => {
    const base = order({ status: 'new', updatedAt: '2026-11-21T10:00:00.000Z' });
    // Same updatedAt, another status: a different idempotency key, so it is processed, not deduplicated.
    const same = { ...base, status: 'processing' };
    expect((await sys.post('/v1/website/orders', base)).status).toBe(202);
    await eventually(() => dealsOf(base.externalId as string).then((d) => d[0]?.status === 'new'));
    const res = await sys.post('/v1/website/orders', same);
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    const outcome = await eventually(async () => {
      const rows = await sys.sql<{ outcome: string }>(
        `SELECT outcome FROM processed_events WHERE event_id = $1`,
        [eventId],
      );
      return rows[0]?.outcome;
    });
    expect(outcome).toBe('stale');
    expect((await dealsOf(base.externalId as string))[0].status).toBe('new');
  });

  it('ends with the same deal whichever order its versions arrive in', async () => {
    const base = order({ status: 'new', updatedAt: '2026-11-20T10:00:00.000Z' });
    const v1 = {
      ...base,
      status: 'paid',
      updatedAt: '2026-11-20T11:00:00.000Z',
      paidAt: '2026-11-20T11:00:00.000Z',
    };
    const v2 = { ...base, status: 'shipped', updatedAt: '2026-11-20T12:00:00.000Z', total: 2500 };
    const inOrder: Array<Record<string, unknown>> = [base, v1, v2];
    const shuffled = ([v2, base, v1] as Array<Record<string, unknown>>).map((o) => ({
      ...o,
      externalId: `${o.externalId as string}-x`,
    }));
    for (const sequence of [inOrder, shuffled]) {
      for (const o of sequence) {
        const res = await sys.post('/v1/website/orders', o);
        expect(res.status).toBe(202);
        const { eventId } = (await res.json()) as { eventId: string };
        await eventually(
          async () =>
            (await sys.sql(`SELECT 1 FROM processed_events WHERE event_id = $1`, [eventId])).length === 1,
        );
      }
    }
    const [a] = await dealsOf(base.externalId as string);
    const [b] = await dealsOf(`${base.externalId as string}-x`);
    const pick = (d: any) => ({
      status: d.status,
      amount: Number(d.amount),
      paidAt: d.paidAt,
      items: d.items.length,
    });
    expect(pick(a)).toEqual({
      status: 'shipped',
      amount: 2500,
      paidAt: '2026-11-20T11:00:00.000Z',
      items: 2,
    });
    expect(pick(b)).toEqual(pick(a));
  });

  it('carries the correlation id from the HTTP request into the processed-event record', async () => {
    const o = order();
    const res = await sys.post('/v1/website/orders', o, { 'x-request-id': 'trace-abc-123' });
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    const { eventId } = (await res.json()) as { eventId: string };
    const rows = await eventually(async () => {
      const r = await sys.sql<{ trace_id: string }>(
        `SELECT trace_id FROM processed_events WHERE event_id = $1`,
        [eventId],
      );
      return r.length ? r : null;
    });
    expect(rows![0].trace_id).toBe('trace-abc-123');
  });

  it('serves health on every app and Prometheus metrics on its metrics listener', async () => {
    // Issue 19: the tests and every app run on the Node runtime package.json pins (24 LTS, 22 at least).
    const pinned = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: { node: string } }
    ).devDependencies.node;
    expect(process.versions.node).toBe(pinned);
    expect(Number(pinned.split('.')[0])).toBeGreaterThanOrEqual(22);
    for (const app of ['gateway', 'website-connector', 'console'] as const) {
      const health = await fetch(`${sys.app(app).url}/health`);
      expect(health.status).toBe(200);
      const detailed = await fetch(`${sys.app(app).metricsUrl}/health`);
      const body = (await detailed.json()) as { details: { runtime: { status: string; node: string } } };
      expect(body.details.runtime).toMatchObject({ status: 'up', node: pinned });
      const metrics = await (await fetch(`${sys.app(app).metricsUrl}/metrics`)).text();
      expect(metrics).toContain('process_resident_memory_bytes');
    }
    const gw = await (await fetch(`${sys.app('gateway').metricsUrl}/metrics`)).text();
    expect(gw).toMatch(/switchboard_ingest_total\{type="website.order.submitted",result="accepted"\} \d+/);
    const wc = await (await fetch(`${sys.app('website-connector').metricsUrl}/metrics`)).text();
    expect(wc).toMatch(/switchboard_consumed_total\{type="website.order.submitted",outcome="ok"\} \d+/);
  });
});
