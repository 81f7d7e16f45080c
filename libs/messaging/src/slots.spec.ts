import { Slots } from './slots';

const tick = () => new Promise((r) => setImmediate(r));

describe('Slots', () => {
  it('lets `size` holders in at once and the rest in the order they asked', async () => {
    const slots = new Slots(2);
    const order: number[] = [];
    await slots.acquire();
    await slots.acquire();
    const third = slots.acquire().then(() => order.push(3));
    const fourth = slots.acquire().then(() => order.push(4));
    await tick();
    expect(order).toEqual([]);
    slots.release();
    await third;
    expect(order).toEqual([3]);
    slots.release();
    await fourth;
    expect(order).toEqual([3, 4]);
  });

  it('drained() waits for every holder and waiter that came before it, not for later ones', async () => {
    const slots = new Slots(2);
    const events: string[] = [];
    await slots.acquire(); // a
    await slots.acquire(); // b
    const c = slots.acquire().then(() => events.push('c in'));
    const barrier = slots.drained().then(() => events.push('drained'));
    const d = slots.acquire().then(() => events.push('d in'));
    await tick();
    expect(events).toEqual([]);
    slots.release(); // a done: c goes in
    await c;
    await tick();
    expect(events).toEqual(['c in']);
    slots.release(); // b done: c still holds a slot, so the barrier waits (and d behind it)
    await tick();
    expect(events).toEqual(['c in']);
    slots.release(); // c done: nothing before the barrier is left
    await barrier;
    await d;
    expect(events.slice(1).sort()).toEqual(['d in', 'drained']);
  });

  it('drained() on idle slots resolves at once and leaves them all free', async () => {
    const slots = new Slots(2);
    await slots.drained();
    await slots.acquire();
    await slots.acquire();
    let third = false;
    void slots.acquire().then(() => (third = true));
    await tick();
    expect(third).toBe(false);
  });
});
