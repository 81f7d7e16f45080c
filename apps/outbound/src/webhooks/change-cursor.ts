/**
 * How far the reader of crm_changes may move its cursor. `seq` comes from a sequence, so a row with a lower seq
 * can commit after a higher one is visible (its producer's transaction was still open): a gap. The reader stops
 * at a gap and waits for it to fill; a gap that stays open gapWaitMs (measured from when this reader first saw
 * it) is taken for a rolled-back transaction and passed. Rows read twice are harmless: fan-out is idempotent.
 */
export class ChangeCursor {
  /** seq of a missing row -> when it was first seen missing (ms). */
  private readonly gapsSeen = new Map<bigint, number>();

  constructor(private readonly gapWaitMs: number) {}

  /** Of `seqs` (ascending, all > cursor), how many to take now, and the cursor after them. */
  advance(cursor: string, seqs: readonly string[], nowMs: number): { take: number; cursor: string } {
    let expected = BigInt(cursor) + 1n;
    let take = 0;
    for (const s of seqs) {
      const seq = BigInt(s);
      if (seq !== expected) {
        const first = this.gapsSeen.get(expected) ?? nowMs;
        this.gapsSeen.set(expected, first);
        if (nowMs - first < this.gapWaitMs) break;
      }
      take += 1;
      expected = seq + 1n;
    }
    for (const gap of this.gapsSeen.keys()) if (gap < expected) this.gapsSeen.delete(gap);
    return { take, cursor: String(expected - 1n) };
  }
}
