import { dayPartitionsBetween, parseDayPartitionName } from './day-partitions';

describe('partitions longer than a day (the inbox: a week each)', () => {
  it('are cut from a day number divisible by the span, so every replica cuts the same weeks', () => {
    const weeks = dayPartitionsBetween(
      't',
      new Date('2031-06-14T00:00:00Z'),
      new Date('2031-06-20T00:00:00Z'),
      7,
    );
    expect(
      weeks.map((w) => [w.name, w.from.toISOString().slice(0, 10), w.to.toISOString().slice(0, 10)]),
    ).toEqual([
      ['t_p20310612', '2031-06-12', '2031-06-19'],
      ['t_p20310619', '2031-06-19', '2031-06-26'],
    ]);
  });

  it('are read back from their name with the span', () => {
    expect(parseDayPartitionName('t', 't_p20310612', 7)?.to.toISOString()).toBe('2031-06-19T00:00:00.000Z');
    expect(parseDayPartitionName('t', 't_p20310612')?.to.toISOString()).toBe('2031-06-13T00:00:00.000Z');
  });
});
