import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { EventSpool } from './event-spool';

describe('EventSpool', () => {
  it('gives back every event in order, bodies byte for byte, across read chunks, and deletes its file on close', async () => {
    const spool = await new EventSpool().open();
    const sent: Array<{ id: string; body: Buffer }> = [];
    // Small and multi-MiB bodies, so frames straddle the 1 MiB write and read pieces.
    for (let i = 0; i < 40; i++) {
      const body = Buffer.alloc(i % 7 === 0 ? 1_500_000 + i : 300 + i, `тело-${i}-`);
      sent.push({ id: `e-${i}`, body });
      await spool.append({ id: `e-${i}`, type: 'erp.catalog.batch', traceId: `t-${i}` }, body);
    }
    expect(spool.count).toBe(40);
    const got: Array<{ id: string; body: Buffer }> = [];
    for await (const { head, body } of spool.events()) {
      expect(head.type).toBe('erp.catalog.batch');
      expect(head.traceId).toBe(`t-${got.length}`);
      got.push({ id: head.id, body: Buffer.from(body) });
    }
    expect(got.map((g) => g.id)).toEqual(sent.map((s) => s.id));
    got.forEach((g, i) => expect(g.body.equals(sent[i].body)).toBe(true));
    const dir = dirname((spool as unknown as { dir: string }).dir + '/events');
    await spool.close();
    expect(existsSync(dir)).toBe(false);
  });

  it("reads what a writer on the owner's file (a parse worker's openAt) appended and sealed; a truncated frame is an error", async () => {
    const owner = await new EventSpool().open();
    const writer = await EventSpool.openAt(owner.path);
    await writer.append({ id: 'a', type: 'erp.catalog.batch', traceId: 't' }, Buffer.from('{"x":1}'));
    await writer.append({ id: 'b', type: 'erp.catalog.batch', traceId: 't' }, Buffer.alloc(2_000_000, 'y'));
    await writer.seal();
    const ids: string[] = [];
    for await (const { head, body } of owner.events()) ids.push(`${head.id}:${body.length}`);
    expect(ids).toEqual(['a:7', 'b:2000000']);

    const { truncate } = await import('node:fs/promises');
    await truncate(owner.path, 30);
    const read = async () => {
      for await (const e of owner.events()) void e;
    };
    await expect(read()).rejects.toThrow(/truncated frame/);
    await owner.close();
  });

  it('an empty spool yields nothing', async () => {
    const spool = await new EventSpool().open();
    const seen: unknown[] = [];
    for await (const e of spool.events()) seen.push(e);
    expect(seen).toEqual([]);
    await spool.close();
  });
});
