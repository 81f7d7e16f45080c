import {
  daysBetween,
  expiredPartitions,
  maintenanceWindow,
  parsePartitionName,
  partitionName,
  partitionsInside,
  retentionCutoff,
  utcDay,
} from './access-log.partitions';

const d = (s: string) => new Date(s);

describe('access log partition naming and ranges (UTC days)', () => {
  it('names a partition after its UTC day, whatever the time of day or offset', () => {
    expect(partitionName(d('2026-01-05T00:00:00Z'))).toBe('access_log_p20260105');
    expect(partitionName(d('2026-01-05T23:59:59.999Z'))).toBe('access_log_p20260105');
    expect(partitionName(d('2026-01-06T01:30:00+03:00'))).toBe('access_log_p20260105');
    expect(utcDay(d('2026-01-05T13:14:15Z')).toISOString()).toBe('2026-01-05T00:00:00.000Z');
  });

  it('parses its own names back to [from, to) and nothing else', () => {
    expect(parsePartitionName('access_log_p20241231')).toEqual({
      name: 'access_log_p20241231',
      from: d('2024-12-31T00:00:00Z'),
      to: d('2025-01-01T00:00:00Z'),
    });
    expect(parsePartitionName('access_log_default')).toBeNull();
    expect(parsePartitionName('access_log_p20250230')).toBeNull();
    expect(parsePartitionName('access_log_p2025010')).toBeNull();
  });

  it('lists every day overlapping [from, to)', () => {
    expect(daysBetween(d('2026-02-27T12:00:00Z'), d('2026-03-02T00:00:00Z')).map((p) => p.name)).toEqual([
      'access_log_p20260227',
      'access_log_p20260228',
      'access_log_p20260301',
    ]);
    expect(daysBetween(d('2026-03-01T00:00:00Z'), d('2026-03-01T00:00:00.001Z')).map((p) => p.name)).toEqual([
      'access_log_p20260301',
    ]);
    expect(daysBetween(d('2026-03-01T00:00:00Z'), d('2026-03-01T00:00:00Z'))).toEqual([]);
  });

  it('maintenance keeps yesterday .. today + aheadDays', () => {
    const w = maintenanceWindow(d('2026-01-05T18:00:00Z'), 2);
    expect(daysBetween(w.from, w.to).map((p) => p.name)).toEqual([
      'access_log_p20260104',
      'access_log_p20260105',
      'access_log_p20260106',
      'access_log_p20260107',
    ]);
  });

  it('retention expires partitions whose upper bound is at or before now - retentionDays', () => {
    const now = d('2026-01-10T06:00:00Z');
    const cutoff = retentionCutoff(now, 3);
    expect(cutoff.toISOString()).toBe('2026-01-07T06:00:00.000Z');
    const parts = daysBetween(d('2026-01-04T00:00:00Z'), d('2026-01-09T00:00:00Z'));
    // The 7th still holds rows after the cutoff: kept (its older rows stay until the day is wholly expired).
    expect(expiredPartitions(parts, cutoff).map((p) => p.name)).toEqual([
      'access_log_p20260104',
      'access_log_p20260105',
      'access_log_p20260106',
    ]);
  });

  it('a deletion range drops only the days it covers wholly', () => {
    const parts = daysBetween(d('2026-01-01T00:00:00Z'), d('2026-01-06T00:00:00Z'));
    expect(
      partitionsInside(parts, d('2026-01-02T12:00:00Z'), d('2026-01-05T00:00:00Z')).map((p) => p.name),
    ).toEqual(['access_log_p20260103', 'access_log_p20260104']);
    expect(partitionsInside(parts, d('2026-01-02T12:00:00Z'), d('2026-01-02T13:00:00Z'))).toEqual([]);
  });
});
