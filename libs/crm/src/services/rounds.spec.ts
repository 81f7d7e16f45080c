import { rounds } from './rounds';

describe('rounds', () => {
  it('puts items with no shared key in one round, in order', () => {
    expect(rounds([['a'], ['b'], ['c', 'd']])).toEqual([[0, 1, 2]]);
  });

  it('moves an item one round past the last earlier item holding any of its keys', () => {
    // 0:a 1:b 2:a(after 0) 3:b,c(after 1) 4:a,c(after 2 and 3) 5:e
    expect(rounds([['a'], ['b'], ['a'], ['b', 'c'], ['a', 'c'], ['e']])).toEqual([[0, 1, 5], [2, 3], [4]]);
  });

  it('keeps every key’s items in their given order', () => {
    const keys = [['x'], ['y'], ['x', 'y'], ['y'], ['x']];
    const roundOf = new Map<number, number>();
    rounds(keys).forEach((r, n) => r.forEach((i) => roundOf.set(i, n)));
    const outOfOrder: Array<[number, number]> = [];
    for (let i = 0; i < keys.length; i++)
      for (let j = i + 1; j < keys.length; j++)
        if (keys[i].some((k) => keys[j].includes(k)) && !(roundOf.get(i)! < roundOf.get(j)!))
          outOfOrder.push([i, j]);
    expect(outOfOrder).toEqual([]);
  });

  it('gives no rounds for no items', () => {
    expect(rounds([])).toEqual([]);
  });
});
