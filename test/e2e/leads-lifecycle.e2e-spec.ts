import { eventually, order, TestSystem } from './support/system';

/** Issue 14 acceptance: managers and rules API, the lead lifecycle, tasks under a given clock, the report. */
describe('leads: managers, rules, lifecycle, tasks, report', () => {
  // Alerts evaluated every second, a lead unassigned for 1 s is late: the "nobody on duty" alert shows quickly.
  const sys = new TestSystem('leads-lifecycle', {
    ALERTS_EVALUATE_INTERVAL_SECONDS: '1',
    ALERTS_UNASSIGNED_LEAD_MINUTES: '0.0167',
  });
  const TILDA_KEY = 'tilda-key-77a1';
  let pbxToken = '';
  const managers: Record<string, string> = {};

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
    await Promise.all(
      ['gateway', 'website-connector', 'telephony-connector', 'console'].map((a) => sys.startApp(a as never)),
    );
    const pbx = await sys.consoleCall('POST', '/v1/admin/peers', {
      id: 'pbx',
      name: 'PBX',
      kind: 'telephony',
      scopes: ['telephony.*'],
    });
    pbxToken = pbx.body.credential.token;
    for (const [name, extra] of [
      ['Maria', { extension: '101', capacity: 50 }],
      [
        'Oleg',
        {
          extension: '102',
          timeZone: 'Europe/Moscow',
          workingHours: { mon: ['09:00-18:00'], tue: ['09:00-18:00'] },
        },
      ],
    ] as const) {
      const res = await sys.consoleCall('POST', '/v1/admin/managers', { name, ...extra });
      expect(res.status).toBe(201);
      managers[name] = res.body.id;
    }
  });
  afterAll(() => sys.destroy());

  const tildaForm = (body: string) =>
    fetch(`${sys.app('gateway').url}/v1/providers/tilda/landing`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': TILDA_KEY },
      body,
    });
  const leadByPhone = (phone: string, until: (l: any) => boolean = () => true) =>
    eventually(async () => {
      const { body } = await sys.consoleGet(`/v1/crm/leads?phone=${encodeURIComponent(phone)}`);
      return body.items?.length && until(body.items[0]) ? body.items[0] : null;
    }, 30_000);
  const newLead = async (name: string, phone: string) => {
    expect(
      (
        await sys.post('/v1/website/leads', {
          kind: 'form',
          name,
          phone,
          occurredAt: new Date().toISOString(),
        })
      ).status,
    ).toBe(202);
    return leadByPhone(phone);
  };

  it('manages managers: create, list with open items, patch; bad input is a problem with a code', async () => {
    const list = await sys.consoleGet('/v1/admin/managers');
    expect(list.body.items.map((m: any) => m.name)).toEqual(['Maria', 'Oleg']);
    const patched = await sys.consoleCall('PATCH', `/v1/admin/managers/${managers.Oleg}`, { capacity: 20 });
    expect(patched).toMatchObject({ status: 200, body: { capacity: 20, timeZone: 'Europe/Moscow' } });
    const bad = await sys.consoleCall('POST', '/v1/admin/managers', {
      name: '',
      timeZone: 'Mars/Olympus',
      workingHours: { mon: ['9-5'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.errors.map((e: any) => e.field).sort()).toEqual(['name', 'timeZone', 'workingHours']);
  });

  it('stores ordered assignment rules, refusing unknown managers and strategies', async () => {
    expect((await sys.consoleGet('/v1/admin/assignment-rules')).body).toEqual({
      source: 'config',
      items: [],
    });
    const bad = await sys.consoleCall('PUT', '/v1/admin/assignment-rules', {
      items: [{ name: 'x', strategy: 'random', managerIds: [] }],
    });
    expect(bad).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    const unknownManager = await sys.consoleCall('PUT', '/v1/admin/assignment-rules', {
      items: [{ name: 'x', strategy: 'fixed', managerIds: ['00000000-0000-4000-8000-000000000000'] }],
    });
    expect(unknownManager.status).toBe(400);
    const rules = [
      {
        name: 'partner-forms',
        match: { forms: ['partner'] },
        strategy: 'fixed',
        managerIds: [managers.Maria],
      },
    ];
    const ok = await sys.consoleCall('PUT', '/v1/admin/assignment-rules', { items: rules });
    expect(ok.body).toEqual({ source: 'stored', items: [{ ...rules[0] }] });
    expect(
      (
        await sys.post('/v1/website/leads', {
          kind: 'form',
          formId: 'partner',
          phone: '+79161110001',
          occurredAt: new Date().toISOString(),
        })
      ).status,
    ).toBe(202);
    expect(await leadByPhone('+79161110001')).toMatchObject({
      responsibleManagerId: managers.Maria,
      assignmentRule: 'partner-forms',
    });
  });

  it('Tilda form, then a call, then a site order: one lead converted to one contact with one deal, all three in its history', async () => {
    const phone = '+79035550101';
    expect((await tildaForm('Name=Vera&Phone=%2B7+903+555-01-01&formid=form9&tranid=9%3A1')).status).toBe(
      202,
    );
    const lead = await leadByPhone(phone);
    const at = Date.now();
    const t = (s: number) => new Date(at + s * 1000).toISOString();
    const call = {
      provider: 'generic',
      providerCallId: `vera-${at}`,
      direction: 'inbound',
      from: phone,
      to: '+74950000001',
    };
    for (const e of [
      { type: 'started', ...call, occurredAt: t(0) },
      { type: 'answered', ...call, occurredAt: t(5), extension: '101' },
      { type: 'ended', ...call, occurredAt: t(65), disposition: 'answered', durationSeconds: 65 },
    ])
      expect(
        (await sys.post('/v1/telephony/events', e, { authorization: `Bearer ${pbxToken}` })).status,
      ).toBe(202);
    await eventually(
      async () => ((await sys.consoleGet(`/v1/crm/leads/${lead.id}`)).body.calls.length ? true : null),
      30_000,
    );
    const o = order({ customer: { name: 'Vera', phone: '8 903 555-01-01' } });
    expect((await sys.post('/v1/website/orders', o)).status).toBe(202);
    const converted = await leadByPhone(phone, (l) => l.status === 'converted');
    const contacts = (await sys.consoleGet(`/v1/crm/contacts?phone=${encodeURIComponent(phone)}`)).body.items;
    expect(contacts).toHaveLength(1);
    const card = (await sys.consoleGet(`/v1/crm/contacts/${contacts[0].id}`)).body;
    expect(card.deals).toHaveLength(1);
    expect(converted).toMatchObject({
      convertedContactId: contacts[0].id,
      convertedDealId: card.deals[0].id,
    });
    const leadCard = (await sys.consoleGet(`/v1/crm/leads/${lead.id}`)).body;
    expect(leadCard.history.map((h: any) => h.kind)).toEqual(
      expect.arrayContaining(['request', 'call', 'order']),
    );
    expect(
      (await sys.consoleGet(`/v1/crm/leads?phone=${encodeURIComponent(phone)}`)).body.items,
    ).toHaveLength(1);
  });

  it('claim: the first wins, the second is a 409; refusal needs a listed reason; reopen', async () => {
    const lead = await newLead('Claimed', '+79161110002');
    const first = await sys.consoleCall('POST', `/v1/crm/leads/${lead.id}/claim`, {
      managerId: managers.Oleg,
    });
    expect(first).toMatchObject({
      status: 200,
      body: { status: 'in_progress', responsibleManagerId: managers.Oleg },
    });
    const second = await sys.consoleCall('POST', `/v1/crm/leads/${lead.id}/claim`, {
      managerId: managers.Maria,
    });
    expect(second).toMatchObject({ status: 409, body: { code: 'CONFLICT' } });
    const unlisted = await sys.consoleCall('POST', `/v1/crm/leads/${lead.id}/refuse`, { reason: 'bored' });
    expect(unlisted).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(unlisted.body.errors[0].field).toBe('reason');
    const refused = await sys.consoleCall('POST', `/v1/crm/leads/${lead.id}/refuse`, {
      reason: 'too expensive',
    });
    expect(refused).toMatchObject({
      status: 200,
      body: { status: 'refused', refuseReason: 'too expensive' },
    });
    expect((await sys.consoleCall('POST', `/v1/crm/leads/${lead.id}/reopen`)).body.status).toBe('new');
    const history = (await sys.consoleGet(`/v1/crm/leads/${lead.id}`)).body.history.map(
      (h: any) => h.summary,
    );
    expect(history).toEqual(
      expect.arrayContaining([`claimed by ${managers.Oleg}`, 'refused (too expensive)', 'reopened']),
    );
    expect(
      (await sys.consoleCall('POST', `/v1/crm/leads/not-a-lead/claim`, { managerId: managers.Oleg })).status,
    ).toBe(404);
  });

  it('converts by hand: contact found or created plus an optional deal, linked both ways', async () => {
    const lead = await newLead('Hand', '+79161110003');
    const res = await sys.consoleCall('POST', `/v1/crm/leads/${lead.id}/convert`, {
      deal: { title: 'Kitchen set', amount: 120000, currency: 'RUB' },
    });
    expect(res).toMatchObject({ status: 200, body: { status: 'converted' } });
    const card = (await sys.consoleGet(`/v1/crm/contacts/${res.body.convertedContactId}`)).body;
    expect(card.deals.map((d: any) => d.id)).toEqual([res.body.convertedDealId]);
    expect(card.leads.map((l: any) => l.id)).toEqual([lead.id]);
    expect((await sys.consoleCall('POST', `/v1/crm/leads/${lead.id}/convert`, {})).status).toBe(409);
  });

  it('tasks: create, list due and overdue at a given time, complete with a result and the next one', async () => {
    const lead = await newLead('Tasked', '+79161110004');
    const created = await sys.consoleCall('POST', '/v1/crm/tasks', {
      kind: 'follow_up',
      title: 'Send the offer',
      dueAt: '2030-01-10T10:00:00Z',
      leadId: lead.id,
      managerId: managers.Maria,
    });
    expect(created.status).toBe(201);
    const overdueAt = (at: string) =>
      sys
        .consoleGet(`/v1/crm/tasks?overdue=true&leadId=${lead.id}&at=${at}`)
        .then((r) => r.body.items.map((t: any) => t.title));
    expect(await overdueAt('2030-01-10T09:59:00Z')).not.toContain('Send the offer');
    expect(await overdueAt('2030-01-10T10:01:00Z')).toContain('Send the offer');
    const moved = await sys.consoleCall('PATCH', `/v1/crm/tasks/${created.body.id}`, {
      dueAt: '2030-01-11T10:00:00Z',
    });
    expect(moved.body.dueAt).toBe('2030-01-11T10:00:00.000Z');
    const done = await sys.consoleCall('PATCH', `/v1/crm/tasks/${created.body.id}`, {
      result: 'offer sent',
      next: { title: 'Call about the offer', dueAt: '2030-01-12T10:00:00Z' },
    });
    expect(done).toMatchObject({
      status: 200,
      body: {
        status: 'done',
        result: 'offer sent',
        next: { kind: 'follow_up', leadId: lead.id, responsibleManagerId: managers.Maria },
      },
    });
    expect(
      (await sys.consoleCall('PATCH', `/v1/crm/tasks/${created.body.id}`, { result: 'again' })).status,
    ).toBe(409);
    expect((await sys.consoleCall('POST', '/v1/crm/tasks', { kind: 'nap', title: '' })).status).toBe(400);
  });

  it('nobody on duty: the lead waits unassigned and an alert fires', async () => {
    for (const id of Object.values(managers))
      expect((await sys.consoleCall('PATCH', `/v1/admin/managers/${id}`, { active: false })).status).toBe(
        200,
      );
    const lead = await newLead('Night', '+79161110005');
    expect(lead).toMatchObject({ status: 'new', responsibleManagerId: null, assignmentRule: null });
    const alert = await eventually(async () => {
      const { body } = await sys.consoleGet('/v1/admin/alerts?status=firing&rule=unassignedLeads');
      return body.items?.[0] ?? null;
    }, 30_000);
    expect(alert).toMatchObject({ rule: 'unassignedLeads', subject: 'leads' });
    for (const id of Object.values(managers))
      await sys.consoleCall('PATCH', `/v1/admin/managers/${id}`, { active: true });
  });

  it('reports leads per source with exact figures', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const rep = await sys.consoleGet(`/v1/crm/reports/leads?from=${from}&to=${to}&groupBy=source`);
    expect(rep.status).toBe(200);
    const site = rep.body.items.find((i: any) => i.key === 'website:shop-test');
    // Leads from shop-test in this suite: partner form, Claimed (reopened), Hand (converted), Tasked, Night.
    expect(site).toMatchObject({ leads: 5, qualified: 5, converted: 1, refused: 0 });
    expect(rep.body.items.find((i: any) => i.key === 'website:landing')).toMatchObject({
      leads: 1,
      converted: 1,
    });
    expect((await sys.consoleGet(`/v1/crm/reports/leads?from=${from}&to=${to}&groupBy=colour`)).status).toBe(
      400,
    );
  });
});
