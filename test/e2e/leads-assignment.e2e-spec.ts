import { eventually, pool, TestSystem } from './support/system';

/** Issue 14 acceptance: 100 leads over 3 managers, one reaching capacity and one off duty; rules and sticky. */
const OFF_DAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date().getUTCDay() + 3) % 7];

describe('leads: assignment under concurrent intake', () => {
  const sys = new TestSystem('leads-assignment');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await sys.start(['gateway', 'website-connector', 'console']);
    for (const [name, extra] of [
      ['free', {}],
      ['capped', { capacity: 10 }],
      // Works one day only, three days from now: off duty today whatever the time zone.
      ['off', { timeZone: 'Europe/Moscow', workingHours: { [OFF_DAY]: ['00:00-24:00'] } }],
    ] as const) {
      const res = await sys.consoleCall('POST', '/v1/admin/managers', { name, ...extra });
      expect(res.status).toBe(201);
      ids[name] = res.body.id;
    }
  });
  afterAll(() => sys.destroy());

  const submit = (i: number, extra: Record<string, unknown> = {}) =>
    sys.post('/v1/website/leads', {
      kind: 'form',
      name: `Lead ${i}`,
      phone: `+7 917 ${String(i).padStart(7, '0')}`,
      occurredAt: new Date().toISOString(),
      ...extra,
    });
  const split = () =>
    sys.sql<{ name: string | null; n: number }>(
      `SELECT m.name, count(*)::int AS n FROM leads l LEFT JOIN managers m ON m.id = l.responsible_manager_id
        WHERE l.phone LIKE '+7917%' GROUP BY 1 ORDER BY 1`,
    );

  it('splits 100 concurrent leads: the capped manager stops at capacity, the off-duty one gets none', async () => {
    const statuses = await pool(100, 20, (i) => submit(i).then((r) => r.status));
    expect(statuses.every((s) => s === 202)).toBe(true);
    await eventually(
      async () => ((await split()).reduce((a, r) => a + r.n, 0) === 100 ? true : null),
      60_000,
    );
    expect(await split()).toEqual([
      { name: 'capped', n: 10 },
      { name: 'free', n: 90 },
    ]);
    const leads = await sys.sql<{ assignment_rule: string }>(`SELECT DISTINCT assignment_rule FROM leads`);
    expect(leads).toEqual([{ assignment_rule: 'default' }]);
  });

  it('skips sticky for a new person, honours a form rule, and keeps a known person with their manager (no new lead)', async () => {
    const put = await sys.consoleCall('PUT', '/v1/admin/assignment-rules', {
      items: [
        { name: 'keep-own', match: { forms: ['quiz'] }, strategy: 'sticky', managerIds: [] },
        { name: 'quiz-fixed', match: { forms: ['quiz'] }, strategy: 'fixed', managerIds: [ids.free] },
      ],
    });
    expect(put.status).toBe(200);
    expect(
      (
        await sys.post('/v1/website/leads', {
          kind: 'quiz',
          formId: 'quiz',
          phone: '+79180000001',
          occurredAt: new Date().toISOString(),
        })
      ).status,
    ).toBe(202);
    const [lead] = await eventually(async () => {
      const r = await sys.sql<any>(`SELECT * FROM leads WHERE phone = '+79180000001'`);
      return r.length ? r : null;
    });
    expect(lead).toMatchObject({ responsible_manager_id: ids.free, assignment_rule: 'quiz-fixed' });
    // The same person again, another form: attached to the open lead, manager unchanged, no second lead.
    expect(
      (
        await sys.post('/v1/website/leads', {
          kind: 'form',
          formId: 'other',
          phone: '8 918 000-00-01',
          occurredAt: new Date().toISOString(),
        })
      ).status,
    ).toBe(202);
    await eventually(async () => {
      const r = await sys.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM lead_activities WHERE lead_id = $1 AND kind = 'request'`,
        [lead.id],
      );
      return r[0].n === 2 ? true : null;
    });
    expect(await sys.sql(`SELECT responsible_manager_id FROM leads WHERE phone = '+79180000001'`)).toEqual([
      { responsible_manager_id: ids.free },
    ]);
  });
});
