import { readableRun } from './outbox-cursor';

const row = (seq: number, ageSeconds = 0) => ({ seq: String(seq), ageSeconds });
const seqs = (rows: Array<{ seq: string }>) => rows.map((r) => Number(r.seq));

describe('readableRun', () => {
  it('passes a contiguous run after the cursor', () => {
    expect(seqs(readableRun([row(5), row(6), row(7)], '4', 10))).toEqual([5, 6, 7]);
  });

  it('stops before a young gap: seq 7 may still commit', () => {
    expect(seqs(readableRun([row(5), row(6), row(8, 1), row(9)], '4', 10))).toEqual([5, 6]);
    expect(seqs(readableRun([row(6, 1)], '4', 10))).toEqual([]);
  });

  it('skips an old gap: that insert was rolled back', () => {
    expect(seqs(readableRun([row(5), row(8, 30), row(9, 30)], '4', 10))).toEqual([5, 8, 9]);
  });
});
