import { ChangeCursor } from './change-cursor';

describe('ChangeCursor: reading crm_changes in seq order despite open transactions', () => {
  it('takes a contiguous run and moves past it', () => {
    expect(new ChangeCursor(1000).advance('10', ['11', '12', '13'], 0)).toEqual({ take: 3, cursor: '13' });
  });

  it('stops at a gap (a producer still committing) and takes the rest once it fills', () => {
    const c = new ChangeCursor(1000);
    expect(c.advance('10', ['11', '13', '14'], 0)).toEqual({ take: 1, cursor: '11' });
    expect(c.advance('11', ['12', '13', '14'], 500)).toEqual({ take: 3, cursor: '14' });
  });

  it('passes a gap that stays open gapWaitMs (a rolled-back transaction), not before', () => {
    const c = new ChangeCursor(1000);
    expect(c.advance('10', ['12'], 0)).toEqual({ take: 0, cursor: '10' });
    expect(c.advance('10', ['12'], 999)).toEqual({ take: 0, cursor: '10' });
    expect(c.advance('10', ['12', '13'], 1000)).toEqual({ take: 2, cursor: '13' });
  });

  it('starts the clock of every gap it reads at once, so k rolled-back transactions cost one wait, not k', () => {
    const c = new ChangeCursor(1000);
    expect(c.advance('0', ['2', '4', '6'], 0)).toEqual({ take: 0, cursor: '0' });
    expect(c.advance('0', ['2', '4', '6'], 999)).toEqual({ take: 0, cursor: '0' });
    expect(c.advance('0', ['2', '4', '6', '7'], 1000)).toEqual({ take: 4, cursor: '7' });
  });

  it('a gap filled meanwhile is no gap; one seen later still waits its full time', () => {
    const c = new ChangeCursor(1000);
    expect(c.advance('0', ['2', '4'], 0)).toEqual({ take: 0, cursor: '0' });
    expect(c.advance('0', ['1', '2', '4', '6'], 500)).toEqual({ take: 2, cursor: '2' });
    expect(c.advance('2', ['4', '6'], 1000)).toEqual({ take: 1, cursor: '4' });
    expect(c.advance('4', ['6'], 1499)).toEqual({ take: 0, cursor: '4' });
    expect(c.advance('4', ['6'], 1500)).toEqual({ take: 1, cursor: '6' });
  });

  it('notice starts the clocks of gaps beyond what was read, so they pass with the first', () => {
    const c = new ChangeCursor(1000);
    expect(c.advance('0', ['2', '3'], 0)).toEqual({ take: 0, cursor: '0' });
    c.notice('0', ['2', '3', '5', '6', '8'], 0);
    expect(c.advance('0', ['2', '3'], 1000)).toEqual({ take: 2, cursor: '3' });
    expect(c.advance('3', ['5', '6', '8'], 1000)).toEqual({ take: 3, cursor: '8' });
    // Noticing again does not restart a clock.
    const d = new ChangeCursor(1000);
    d.notice('0', ['2'], 0);
    d.notice('0', ['2'], 900);
    expect(d.advance('0', ['2'], 1000)).toEqual({ take: 1, cursor: '2' });
  });

  it('waits for each gap on its own clock', () => {
    const c = new ChangeCursor(1000);
    c.advance('0', ['2'], 0);
    expect(c.advance('0', ['2', '4'], 1500)).toEqual({ take: 1, cursor: '2' });
    expect(c.advance('2', ['4'], 2499)).toEqual({ take: 0, cursor: '2' });
    expect(c.advance('2', ['4'], 2500)).toEqual({ take: 1, cursor: '4' });
  });
});
