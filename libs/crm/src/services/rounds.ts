/**
 * Splits items (given by their keys) into rounds in which no two share a key, keeping each key's items in their
 * given order across rounds: an item goes one round after the last earlier item holding any of its keys.
 * Returns the item indexes of each round, ascending.
 */
export function rounds(keysOf: string[][]): number[][] {
  const lastRound = new Map<string, number>();
  const out: number[][] = [];
  keysOf.forEach((keys, i) => {
    let r = 0;
    for (const k of keys) r = Math.max(r, (lastRound.get(k) ?? -1) + 1);
    for (const k of keys) lastRound.set(k, r);
    (out[r] ??= []).push(i);
  });
  return out;
}
