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
    // Every gap in what was read starts its clock now, not only the first: k rolled-back transactions (each
    // failed batch retried alone leaves one) then cost one gapWaitMs, not k of them one after another — at one
    // new gap per gapWaitMs the reader would never have caught up.
    let next = BigInt(cursor) + 1n;
    let expected: bigint | null = null;
    let take = 0;
    for (const s of seqs) {
      const seq = BigInt(s);
      if (seq !== next) {
        const first = this.gapsSeen.get(next) ?? nowMs;
        this.gapsSeen.set(next, first);
        if (expected === null && nowMs - first < this.gapWaitMs) expected = next;
      }
      if (expected === null) take += 1;
      next = seq + 1n;
    }
    const moved = expected ?? next;
    for (const gap of this.gapsSeen.keys()) if (gap < moved) this.gapsSeen.delete(gap);
    return { take, cursor: String(moved - 1n) };
  }
}
