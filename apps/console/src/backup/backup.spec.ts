import { foreignKeyOrder } from './backup';

describe('foreignKeyOrder', () => {
  const t = (...names: string[]) => names.map((name) => ({ name }));

  it('puts parents before children, ties by name', () => {
    const order = foreignKeyOrder(t('deal_items', 'deals', 'contacts', 'managers'), [
      { child: 'deal_items', parent: 'deals' },
      { child: 'deals', parent: 'contacts' },
      { child: 'deals', parent: 'managers' },
      { child: 'contacts', parent: 'managers' },
    ]).map((x) => x.name);
    expect(order).toEqual(['managers', 'contacts', 'deals', 'deal_items']);
  });

  it('breaks a cycle instead of looping, keeps every table once; ignores self-references and unknown parents', () => {
    const order = foreignKeyOrder(t('tasks', 'call_logs', 'leads'), [
      { child: 'tasks', parent: 'call_logs' },
      { child: 'call_logs', parent: 'tasks' },
      { child: 'tasks', parent: 'leads' },
      { child: 'leads', parent: 'leads' },
      { child: 'leads', parent: 'access_log' },
    ]).map((x) => x.name);
    expect(order[0]).toBe('leads');
    expect([...order].sort()).toEqual(['call_logs', 'leads', 'tasks']);
  });
});
