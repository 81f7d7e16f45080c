import { eventually, order, TestSystem } from './support/system';

/**
 * Issue 14: one set of assignment rules for every channel. A new customer's order is assigned by its product
 * groups (the items' SKUs in the ERP catalog, any level of the group path) and its total (wholesale threshold);
 * a lead from an unknown caller by the same rules (source "phone call", region by phone prefix), with the rule
 * recorded; a known customer keeps their manager.
 */
describe('leads: assignment rules for orders and calls', () => {
  const sys = new TestSystem('leads-rules');
  const ids: Record<string, string> = {};
  let pbxToken = '';

  beforeAll(async () => {
    await sys.start(['gateway', 'website-connector', 'telephony-connector', 'console']);
    for (const name of ['anyone', 'kettles', 'wholesale', 'spb']) {
      const res = await sys.consoleCall('POST', '/v1/admin/managers', { name });
      expect(res.status).toBe(201);
      ids[name] = res.body.id;
    }
    const put = await sys.consoleCall('PUT', '/v1/admin/assignment-rules', {
      items: [
        {
          name: 'kettle-orders',
          match: { productGroups: ['Kettles'] },
          strategy: 'fixed',
          managerIds: [ids.kettles],
        },
        {
          name: 'wholesale',
          match: { minOrderTotal: 100000 },
          strategy: 'fixed',
          managerIds: [ids.wholesale],
        },
        {
          name: 'spb-calls',
          match: { sources: ['phone call'], phonePrefixes: ['+7812'] },
          strategy: 'fixed',
          managerIds: [ids.spb],
        },
      ],
    });
    expect(put.status).toBe(200);
    // The ERP's catalog: the kettle two levels down, the mug elsewhere.
    await sys.sql(
      `INSERT INTO products (peer_id, external_id, sku, name, group_path, version)
       VALUES ('erp', 'p-1', 'KET-9', 'Kettle', ARRAY['Appliances', 'Kettles'], 1),
              ('erp', 'p-2', 'MUG-9', 'Mug', ARRAY['Tableware'], 1)`,
    );
    const peer = await sys.consoleCall('POST', '/v1/admin/peers', {
      id: 'pbx',
      name: 'Office PBX',
      kind: 'telephony',
      scopes: ['telephony.*'],
    });
    expect(peer.status).toBe(201);
    pbxToken = peer.body.credential.token;
  });
  afterAll(() => sys.destroy());

  const item = (sku: string, price: number) => ({ sku, name: sku, quantity: 1, price });
  const dealOf = (externalId: string) =>
    eventually(async () => {
      const [deal] = await sys.sql<any>(
        `SELECT d.responsible_manager_id AS deal_manager, c.responsible_manager_id AS contact_manager, c.id AS contact_id
           FROM deals d JOIN contacts c ON c.id = d.contact_id WHERE d.external_id = $1`,
        [externalId],
      );
      return deal ?? null;
    }, 30_000);

  it('gives a new customer’s kettle order to the kettle manager, by the ERP catalog’s group path', async () => {
    const o = order({ items: [item('MUG-9', 500), item('KET-9', 1500)], total: 2000 });
    expect((await sys.post('/v1/website/orders', o)).status).toBe(202);
    const deal = await dealOf(o.externalId as string);
    expect(deal).toMatchObject({ deal_manager: ids.kettles, contact_manager: ids.kettles });

    // The same customer again with a wholesale order: known, so their manager stays.
    const again = order({
      customer: o.customer,
      items: [item('MUG-9', 150000)],
      total: 150000,
    });
    expect((await sys.post('/v1/website/orders', again)).status).toBe(202);
    expect(await dealOf(again.externalId as string)).toMatchObject({ deal_manager: ids.kettles });
  });

  it('gives a new customer’s order over the wholesale threshold to the wholesale manager', async () => {
    const o = order({ items: [item('MUG-9', 120000)], total: 120000 });
    expect((await sys.post('/v1/website/orders', o)).status).toBe(202);
    expect(await dealOf(o.externalId as string)).toMatchObject({
      deal_manager: ids.wholesale,
      contact_manager: ids.wholesale,
    });
  });

  it('assigns a lead from an unknown caller nobody took by the rules, recording the rule', async () => {
    const base = {
      provider: 'generic',
      providerCallId: 'spb-call-1',
      direction: 'inbound',
      from: '+78125550101',
      to: '+74950000001',
    };
    const at = Date.now();
    for (const e of [
      { type: 'started', ...base, occurredAt: new Date(at).toISOString() },
      { type: 'ended', ...base, occurredAt: new Date(at + 20_000).toISOString(), disposition: 'no-answer' },
    ]) {
      expect(
        (await sys.post('/v1/telephony/events', e, { authorization: `Bearer ${pbxToken}` })).status,
      ).toBe(202);
    }
    const lead = await eventually(async () => {
      const [row] = await sys.sql<any>(`SELECT * FROM leads WHERE phone = '+78125550101'`);
      return row ?? null;
    }, 30_000);
    expect(lead).toMatchObject({
      source_channel: 'phone call',
      responsible_manager_id: ids.spb,
      assignment_rule: 'spb-calls',
    });
    // And the call-back task of the missed call is theirs too.
    const task = await eventually(async () => {
      const [row] = await sys.sql<any>(
        `SELECT * FROM tasks WHERE kind = 'call_back' AND phone = '+78125550101'`,
      );
      return row ?? null;
    }, 30_000);
    expect(task.responsible_manager_id).toBe(ids.spb);
  });
});
