/**
 * A bigserial seq is taken at INSERT and becomes visible at COMMIT, so a reader of `crm_changes` may see seq 8
 * before seq 7 commits. Rows are safe to pass only up to the first gap that is still young (an earlier
 * transaction may yet commit into it); an older gap is a rolled-back insert and is skipped.
 * Returns the rows that may be handled now, in order; the cursor moves to the last one's seq.
 */
export function readableRun<T extends { seq: string; ageSeconds: number }>(
  rows: readonly T[],
  cursorSeq: string,
  gapWaitSeconds: number,
): T[] {
  const out: T[] = [];
  let last = BigInt(cursorSeq);
  for (const row of rows) {
    const seq = BigInt(row.seq);
    if (seq !== last + 1n && row.ageSeconds < gapWaitSeconds) break;
    out.push(row);
    last = seq;
  }
  return out;
}
