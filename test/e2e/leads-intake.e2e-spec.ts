import { eventually, pool, TestSystem } from './support/system';

/** Issue 14: site requests become qualified, deduplicated, assigned lead cards with their tasks. */
describe('lead intake: Tilda and generic site requests', () => {
  const sys = new TestSystem('leads-intake');
  const TILDA_KEY = 'tilda-api-key-0c41';

  beforeAll(async () => {
    await sys.start([]);
    await sys.cli(
      'peers',
      'create',
      '--id',
      'landing',
      '--name',
      'Landing',
      '--kind',
      'website',
      '--provider',
      'tilda',
      '--signing-secret',
      TILDA_KEY,
    );
    await sys.sql(`INSERT INTO managers (name, extension) VALUES ('Maria', '101'), ('Oleg', '102')`);
    await Promise.all(['gateway', 'website-connector', 'console'].map((a) => sys.startApp(a as never)));
  });
  afterAll(() => sys.destroy());

  const leadsWhere = (where: string, params: unknown[] = []) =>
    sys.sql<Record<string, any>>(`SELECT * FROM leads WHERE ${where} ORDER BY created_at`, params);
  const lead = (body: Record<string, unknown>) => ({
    kind: 'form',
    occurredAt: new Date().toISOString(),
    ...body,
  });

  it('turns a Tilda form post into a new assigned lead with its first-contact task', async () => {
    const res = await fetch(`${sys.app('gateway').url}/v1/providers/tilda/landing`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-api-key': TILDA_KEY,
        referer: 'https://landing.example/?utm_source=vk&utm_campaign=spring',
      },
      body: 'Name=Anna&Phone=8+(912)+345-67-89&tranid=1%3A100&formid=form1&formname=Order+a+call',
    });
    expect(res.status).toBe(202);
    const [row] = await eventually(() =>
      leadsWhere(`phone = '+79123456789'`).then((r) => (r.length ? r : null)),
    );
    expect(row).toMatchObject({
      status: 'new',
      kind: 'form',
      form_id: 'form1',
      utm_source: 'vk',
      utm_campaign: 'spring',
      source_channel: 'website:landing',
      assignment_rule: 'default',
    });
    expect(row.responsible_manager_id).toBeTruthy();
    const tasks = await sys.sql(`SELECT kind, responsible_manager_id FROM tasks WHERE lead_id = $1`, [
      row.id,
    ]);
    expect(tasks).toEqual([{ kind: 'call_lead', responsible_manager_id: row.responsible_manager_id }]);
    // Tilda retries a post it did not see answered: the same tranid records nothing twice.
    expect(
      (
        await fetch(`${sys.app('gateway').url}/v1/providers/tilda/landing`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': TILDA_KEY },
          body: 'Name=Anna&Phone=8+(912)+345-67-89&tranid=1%3A100&formid=form1&formname=Order+a+call',
        })
      ).status,
    ).toBe(202);
    const activities = await eventually(async () => {
      const r = await sys.sql(
        `SELECT count(*)::int AS n FROM processed_events WHERE consumer = 'website-connector:leads'`,
      );
      return (r[0] as { n: number }).n >= 1 ? r : null;
    });
    expect(activities).toBeTruthy();
    expect(await leadsWhere(`phone = '+79123456789'`)).toHaveLength(1);
  });

  it('keeps a request with neither a valid phone nor email as unqualified', async () => {
    expect(
      (await sys.post('/v1/website/leads', lead({ name: 'Nobody', phone: '123', email: 'nope@' }))).status,
    ).toBe(202);
    const [row] = await eventually(() => leadsWhere(`name = 'Nobody'`).then((r) => (r.length ? r : null)));
    expect(row).toMatchObject({
      status: 'unqualified',
      status_reason: 'invalidPhone',
      responsible_manager_id: null,
    });
  });

  it('answers bad input with problem+json and a code, recording nothing', async () => {
    const res = await sys.post('/v1/website/leads', { kind: 'fax', occurredAt: 'yesterday' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as { code: string; errors: Array<{ field: string }> };
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(new Set(problem.errors.map((e) => e.field))).toEqual(new Set(['kind', 'occurredAt']));
  });

  it('makes 10 leads from 50 concurrent requests of 10 people, a callback request with a call-back task', async () => {
    const phone = (i: number) => `+7 915 000-00-${String(10 + i)}`;
    const statuses = await pool(50, 25, (i) =>
      sys
        .post(
          '/v1/website/leads',
          lead({
            kind: i === 0 ? 'callback' : 'form',
            formId: `f${i}`,
            name: `P${i % 10}`,
            phone: phone(i % 10),
          }),
        )
        .then((r) => r.status),
    );
    expect(statuses.every((s) => s === 202)).toBe(true);
    const done = await eventually(async () => {
      const r = await sys.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM lead_activities a JOIN leads l ON l.id = a.lead_id WHERE a.kind = 'request' AND l.phone LIKE '+791500000%'`,
      );
      return r[0].n === 50 ? r : null;
    }, 60_000);
    expect(done).toBeTruthy();
    const rows = await leadsWhere(`phone LIKE '+791500000%'`);
    expect(rows).toHaveLength(10);
    const callbacks = await sys.sql(
      `SELECT phone FROM tasks WHERE kind = 'call_back' AND phone = '+79150000010'`,
    );
    expect(callbacks).toHaveLength(1);
  });
});
