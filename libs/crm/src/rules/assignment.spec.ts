import {
  AssignmentContext,
  AssignmentRule,
  assignmentRuleProblems,
  decideAssignment,
  ManagerProfile,
  roundRobin,
  withinHours,
} from './assignment';

const mgr = (id: string, over: Partial<ManagerProfile> = {}): ManagerProfile => ({
  id,
  active: true,
  capacity: null,
  workingHours: null,
  timeZone: 'UTC',
  regions: [],
  sources: [],
  productGroups: [],
  ...over,
});
// Monday 2026-12-07 10:00 UTC
const now = new Date('2026-12-07T10:00:00Z');
const ctx = (over: Partial<AssignmentContext> = {}): AssignmentContext => ({
  source: 'website:shop',
  now,
  ...over,
});
const noLoad = new Map<string, number>();

describe('roundRobin', () => {
  it('cycles through the managers in order', () => {
    expect([0, 1, 2, 3, 4].map((t) => roundRobin(['a', 'b', 'c'], t))).toEqual(['a', 'b', 'c', 'a', 'b']);
  });
  it('has nobody to give to when nobody is there', () => {
    expect(roundRobin([], 5)).toBeNull();
  });
});

describe('withinHours', () => {
  it('reads the hours in the time zone', () => {
    // 10:00 UTC is 13:00 in Moscow
    expect(withinHours({ mon: ['09:00-12:00'] }, 'Europe/Moscow', now)).toBe(false);
    expect(withinHours({ mon: ['12:00-18:00'] }, 'Europe/Moscow', now)).toBe(true);
    expect(withinHours({ tue: ['00:00-24:00'] }, 'UTC', now)).toBe(false);
  });
  it('handles overnight shifts', () => {
    expect(withinHours({ mon: ['22:00-11:00'] }, 'UTC', now)).toBe(true);
  });
});

describe('decideAssignment', () => {
  const managers = [
    mgr('a'),
    mgr('b', { capacity: 2 }),
    mgr('c', { workingHours: { sat: ['09:00-18:00'] } }),
  ];

  it('splits by round robin over those on duty and below capacity (default rule)', () => {
    const load = new Map([['b', 2]]);
    const picks = [0, 1, 2].map((t) => decideAssignment([], managers, load, ctx(), t));
    expect(picks.map((p) => p.managerId)).toEqual(['a', 'a', 'a']);
    expect(picks[0].rule).toBe('default');
    const free = [0, 1, 2, 3].map((t) => decideAssignment([], managers, noLoad, ctx(), t).managerId);
    expect(free).toEqual(['a', 'b', 'a', 'b']);
  });

  it('leaves the card unassigned when nobody is on duty', () => {
    const off = managers.map((m) => ({ ...m, active: m.id !== 'a' ? m.active : false, capacity: 0 }));
    expect(decideAssignment([], off, noLoad, ctx(), 0)).toEqual({ managerId: null, rule: null });
  });

  it('honours source, form, product group, total, region and hours rules in order', () => {
    const rules: AssignmentRule[] = [
      { name: 'wholesale', match: { minOrderTotal: 100000 }, strategy: 'fixed', managerIds: ['b'] },
      { name: 'tools', match: { productGroups: ['tools'] }, strategy: 'fixed', managerIds: ['a'] },
      { name: 'moscow', match: { phonePrefixes: ['+7495'] }, strategy: 'fixed', managerIds: ['b'] },
      {
        name: 'quiz',
        match: { forms: ['quiz-1'], sources: ['website:shop'] },
        strategy: 'fixed',
        managerIds: ['a'],
      },
      { name: 'night', match: { hours: { mon: ['20:00-08:00'] } }, strategy: 'fixed', managerIds: ['b'] },
    ];
    const d = (c: Partial<AssignmentContext>) => decideAssignment(rules, managers, noLoad, ctx(c), 0);
    expect(d({ orderTotal: 150000, productGroups: ['tools'] })).toEqual({
      managerId: 'b',
      rule: 'wholesale',
    });
    expect(d({ orderTotal: 500, productGroups: ['tools'] })).toEqual({ managerId: 'a', rule: 'tools' });
    expect(d({ phone: '+74951234567' })).toEqual({ managerId: 'b', rule: 'moscow' });
    expect(d({ formId: 'quiz-1' })).toEqual({ managerId: 'a', rule: 'quiz' });
    expect(d({ formId: 'quiz-1', source: 'website:other' }).rule).toBe('default');
    expect(d({ now: new Date('2026-12-07T23:00:00Z') })).toEqual({ managerId: 'b', rule: 'night' });
  });

  it('falls through a rule whose managers cannot take the card', () => {
    const rules: AssignmentRule[] = [{ name: 'only-c', match: {}, strategy: 'fixed', managerIds: ['c'] }];
    expect(decideAssignment(rules, managers, noLoad, ctx(), 0)).toEqual({ managerId: 'a', rule: 'default' });
  });

  it('keeps a card with its manager (sticky) even at capacity', () => {
    const rules: AssignmentRule[] = [{ name: 'sticky', match: {}, strategy: 'sticky', managerIds: [] }];
    const load = new Map([['b', 5]]);
    expect(decideAssignment(rules, managers, load, ctx({ stickyManagerId: 'b' }), 0)).toEqual({
      managerId: 'b',
      rule: 'sticky',
    });
    expect(decideAssignment(rules, managers, load, ctx(), 0).rule).toBe('default');
  });

  it('gives the least loaded relative to capacity', () => {
    const ms = [mgr('a', { capacity: 10 }), mgr('b', { capacity: 4 })];
    const rules: AssignmentRule[] = [{ name: 'll', match: {}, strategy: 'leastLoaded', managerIds: [] }];
    const load = new Map([
      ['a', 5],
      ['b', 1],
    ]);
    expect(decideAssignment(rules, ms, load, ctx(), 0)).toEqual({ managerId: 'b', rule: 'll' });
    load.set('b', 3);
    expect(decideAssignment(rules, ms, load, ctx(), 0).managerId).toBe('a');
  });

  it('respects a manager’s own sources and regions', () => {
    const ms = [mgr('a', { sources: ['phone call'] }), mgr('b', { regions: ['+7812'] })];
    expect(decideAssignment([], ms, noLoad, ctx({ phone: '+74951234567' }), 0).managerId).toBeNull();
    expect(decideAssignment([], ms, noLoad, ctx({ phone: '+78121234567' }), 0).managerId).toBe('b');
  });
});

describe('assignmentRuleProblems', () => {
  it('accepts a valid rule set', () => {
    expect(
      assignmentRuleProblems([
        { name: 'x', strategy: 'fixed', managerIds: ['m'], match: { minOrderTotal: 5 } },
      ]),
    ).toEqual([]);
  });
  it('lists every problem', () => {
    const p = assignmentRuleProblems([
      { name: '', strategy: 'random', match: { colour: 'red', hours: { mon: ['9-5'] } } },
      { name: 'a', strategy: 'fixed' },
      { name: 'a', strategy: 'fixed' },
    ]);
    expect(p).toEqual([
      'rules[0].name must be a non-empty string',
      'rules[0].strategy must be one of sticky, roundRobin, leastLoaded, fixed',
      'rules[0].match.colour is not a known match field',
      'rules[0].match.hours must map mon..sun to "HH:MM-HH:MM" ranges',
      'rules[2].name "a" is used twice',
    ]);
  });
});
