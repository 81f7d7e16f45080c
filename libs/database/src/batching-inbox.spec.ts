import { EventEnvelope } from '@switchboard/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { BatchingInbox } from './batching-inbox';
import { Inbox } from './inbox';

type R = { outcome: string };

/** A DataSource whose markers conflict for event ids seen before; records every transaction. */
function fakeDb() {
  const markers = new Set<string>();
  const log: string[] = [];
  let open = 0;
  let maxOpen = 0;
  const em = {
    query: async (sql: string, params: unknown[]) => {
      if (sql.includes('INSERT INTO processed_events')) {
        const ids = params[1] as string[];
        const fresh = [...new Set(ids)].filter((id) => !markers.has(id));
        fresh.forEach((id) => markers.add(id));
        return fresh.map((event_id) => ({ event_id }));
      }
      return [];
    },
  } as unknown as EntityManager;
  const ds = {
    transaction: async <T>(fn: (em: EntityManager) => Promise<T>): Promise<T> => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      const snapshot = new Set(markers);
      try {
        return await fn(em);
      } catch (err) {
        markers.clear();
        snapshot.forEach((m) => markers.add(m));
        throw err;
      } finally {
        open--;
      }
    },
  } as unknown as DataSource;
  const single = {
    windowDays: 30,
    process: async (_c: string, env: EventEnvelope, effects: (em: EntityManager) => Promise<R>) => {
      log.push(`alone ${env.id}`);
      if (markers.has(env.id)) return { duplicate: true };
      const result = await effects(em);
      markers.add(env.id);
      return { duplicate: false, result };
    },
  } as unknown as Inbox;
  return { ds, single, log, maxOpen: () => maxOpen };
}

const env = (id: string): EventEnvelope =>
  ({ id, peerId: 'p', idempotencyKey: id, type: 't', traceId: 'tr' }) as unknown as EventEnvelope;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BatchingInbox', () => {
  it('without batch effects runs each item in turn, as before', async () => {
    const { ds, single } = fakeDb();
    const inbox = new BatchingInbox(ds, single);
    const order: string[] = [];
    const item = (id: string) => ({
      envelope: env(id),
      lockKeys: [],
      effects: async () => {
        order.push(id);
        return { outcome: `done ${id}` };
      },
    });
    const out = await Promise.all(['a', 'b', 'a'].map((id) => inbox.submit('c', item(id))));
    expect(order).toEqual(['a', 'b']);
    expect(out).toEqual([
      { duplicate: false, result: { outcome: 'done a' } },
      { duplicate: false, result: { outcome: 'done b' } },
      { duplicate: true },
    ]);
  });

  it('hands a consumer its whole batch (fresh items once) and each caller its own result', async () => {
    const { ds, single } = fakeDb();
    const inbox = new BatchingInbox(ds, single);
    const calls: string[][] = [];
    inbox.configure<R, number>('c', {
      batchEffects: async (_em, items) => {
        calls.push(items.map((i) => i.envelope.id));
        return items.map((i) => ({ outcome: `n=${i.data}` }));
      },
    });
    const item = (id: string, n: number) => ({
      envelope: env(id),
      data: n,
      lockKeys: [],
      effects: () => Promise.reject(new Error('not alone')),
    });
    const out = await Promise.all([
      inbox.submit('c', item('a', 1)),
      inbox.submit('c', item('b', 2)),
      inbox.submit('c', item('a', 1)),
      inbox.submit('c', item('d', 4)),
    ]);
    expect(calls).toEqual([['a', 'b', 'd']]);
    expect(out).toEqual([
      { duplicate: false, result: { outcome: 'n=1' } },
      { duplicate: false, result: { outcome: 'n=2' } },
      { duplicate: true },
      { duplicate: false, result: { outcome: 'n=4' } },
    ]);
  });

  it('a failing batch is retried item by item, so a poison item fails alone', async () => {
    const { ds, single, log } = fakeDb();
    const inbox = new BatchingInbox(ds, single);
    inbox.configure<R>('c', {
      batchEffects: async () => {
        throw new Error('bad row in batch');
      },
    });
    const item = (id: string) => ({
      envelope: env(id),
      lockKeys: [],
      effects: async () => {
        if (id === 'poison') throw new Error('poison');
        return { outcome: id };
      },
    });
    const out = await Promise.allSettled(['a', 'poison', 'b'].map((id) => inbox.submit('c', item(id))));
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log.sort()).toEqual(['alone a', 'alone b', 'alone poison']);
  });

  it('with maxConcurrent, what arrives while a batch runs goes into the next batch', async () => {
    const { ds, single, maxOpen } = fakeDb();
    const inbox = new BatchingInbox(ds, single);
    const batches: string[][] = [];
    inbox.configure<R>('c', {
      maxBatch: 10,
      lingerMs: 1,
      maxConcurrent: 1,
      batchEffects: async (_em, items) => {
        batches.push(items.map((i) => i.envelope.id));
        await sleep(30);
        return items.map(() => ({ outcome: 'ok' }));
      },
    });
    const item = (id: string) => ({
      envelope: env(id),
      lockKeys: [],
      effects: async () => ({ outcome: 'alone' }),
    });
    const first = [inbox.submit('c', item('a')), inbox.submit('c', item('b'))];
    await sleep(10);
    const later = ['c', 'd', 'e'].map((id) => inbox.submit('c', item(id)));
    await Promise.all([...first, ...later]);
    expect(batches).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    expect(maxOpen()).toBe(1);
    await inbox.onApplicationShutdown();
  });
});
