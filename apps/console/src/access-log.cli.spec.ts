import { maintenanceTime } from './access-log.cli';

describe('access-log maintain --now', () => {
  const clock = new Date('2026-12-07T12:00:00.000Z');

  it('runs as of the clock without --now', () => {
    expect(maintenanceTime(undefined, false, clock)).toBe(clock);
  });

  it('takes a past --now (rebuilding partitions of an old day)', () => {
    expect(maintenanceTime('2026-06-01T00:00:00Z', false, clock).toISOString()).toBe(
      '2026-06-01T00:00:00.000Z',
    );
  });

  it('refuses a future --now without --yes: it would delete rows that have not expired', () => {
    expect(() => maintenanceTime('2027-12-07T12:00:00Z', false, clock)).toThrow(/in the future.*--yes/s);
  });

  it('runs a future --now when confirmed with --yes', () => {
    expect(maintenanceTime('2027-12-07T12:00:00Z', true, clock).toISOString()).toBe(
      '2027-12-07T12:00:00.000Z',
    );
  });

  it('tolerates a few minutes of clock skew', () => {
    expect(maintenanceTime('2026-12-07T12:04:00Z', false, clock).toISOString()).toBe(
      '2026-12-07T12:04:00.000Z',
    );
  });

  it('rejects what is not a date', () => {
    expect(() => maintenanceTime('next tuesday', false, clock)).toThrow('--now takes an ISO 8601 date-time');
  });
});
