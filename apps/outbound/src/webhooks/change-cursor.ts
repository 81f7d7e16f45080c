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
    this.notice(cursor, seqs, nowMs);
    let next = BigInt(cursor) + 1n;
    let take = 0;
    for (const s of seqs) {
      const seq = BigInt(s);
      if (seq !== next && nowMs - (this.gapsSeen.get(next) ?? nowMs) < this.gapWaitMs) break;
      take += 1;
      next = seq + 1n;
    }
    for (const gap of this.gapsSeen.keys()) if (gap < next) this.gapsSeen.delete(gap);
    return { take, cursor: String(next - 1n) };
  }

  /**
   * Starts the clock of every gap in `seqs` (ascending, all > cursor) not seen before, without moving: the reader
   * looks further ahead than it reads when it stops at a gap, so the gaps of a long backlog wait together.
   */
  notice(cursor: string, seqs: readonly string[], nowMs: number): void {
    let next = BigInt(cursor) + 1n;
    for (const s of seqs) {
      const seq = BigInt(s);
      if (seq !== next && !this.gapsSeen.has(next)) this.gapsSeen.set(next, nowMs);
      next = seq + 1n;
    }
  }
}
