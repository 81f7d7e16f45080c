import { eventually, order, TestSystem } from './support/system';

const DAY = 86_400_000;
const TIERS = [
  { name: 'silver', minSpend: 10_000, percent: 3 },
  { name: 'gold', minSpend: 50_000, percent: 5 },
];

/**
 * Issue 16 parts 2 and 3, up to the CRM outbox (crm_changes): what a site's personal account sends lands on the
 * right card; the CRM's own edits and every change of the effective discount are recorded once for apps/outbound
 * to deliver. "Later" is the console started with a moved clock (SWITCHBOARD_TEST_CLOCK_OFFSET_MS).
 */
describe('customer sync and loyalty discount', () => {
  const sys = new TestSystem('customer-loyalty', {
    CRM_LOYALTY_TIERS: JSON.stringify(TIERS),
    CRM_LOYALTY_CURRENCY: 'RUB',
  });
  beforeAll(() => sys.start(['gateway', 'website-connector', 'erp-connector', 'console']));
  afterAll(() => sys.destroy());

  let seq = 0;
  const uniquePhone = () =>
    `+7913${String(Date.now() % 1_000_000).padStart(6, '0')}${(seq++ % 10).toString()}`;

  const changes = (contactId: string, type: string) =>
    sys.sql<{ seq: string; payload: any; aggregate_key: string }>(
      `SELECT seq, payload, aggregate_key FROM crm_changes WHERE contact_id = $1 AND type = $2 ORDER BY seq`,
      [contactId, type],
    );

  /** Posts a paid order and waits until its deal is projected; returns the deal's contact. */
  async function paidOrder(phone: string, total: number, overrides: Record<string, unknown> = {}) {
    const o = order({
      status: 'paid',
      paidAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      total,
      customer: { name: 'Anna Petrova', phone },
      ...overrides,
    });
    const res = await sys.post('/v1/website/orders', o);
    expect(res.status).toBe(202);
    const [deal] = await eventually(async () => {
      const rows = await sys.sql<{ contact_id: string }>(
        `SELECT contact_id FROM deals WHERE external_id = $1 AND amount = $2`,
        [o.externalId, total],
      );
      return rows.length ? rows : null;
    });
    return deal.contact_id;
  }

  /** Restarts the console with its clock moved by `days` (its loyalty pass runs at start). */
  async function consoleAt(days: number) {
    await sys.app('console').kill('SIGTERM');
    await sys.startApp('console', { SWITCHBOARD_TEST_CLOCK_OFFSET_MS: String(days * DAY) });
  }

  const customer = (body: Record<string, unknown>) => sys.post('/v1/website/customers', body);

  describe('loyalty', () => {
    const phone = uniquePhone();
    let contactId = '';

    it('paid deals crossing a tier record exactly one crm.contact.discount_changed', async () => {
      contactId = await paidOrder(phone, 6_000);
      expect(await changes(contactId, 'crm.contact.discount_changed')).toEqual([]); // below silver
      expect(await paidOrder(phone, 5_000)).toBe(contactId);
      // An unpaid order of the same customer changes no spend.
      await paidOrder(phone, 70_000, { status: 'new', paidAt: undefined });
      const rows = await changes(contactId, 'crm.contact.discount_changed');
      expect(rows).toHaveLength(1);
      expect(rows[0].aggregate_key).toBe(`contact:${contactId}`);
      expect(rows[0].payload).toMatchObject({
        contactId,
        discount: { percent: 3, source: 'tier', expiresAt: null },
        previous: { percent: 0, source: null },
        loyalty: { spend: 11_000, currency: 'RUB', tier: 'silver' },
      });
      const card = await sys.consoleGet(`/v1/crm/contacts/${contactId}`);
      expect(card.status).toBe(200);
      expect(card.body.loyalty).toMatchObject({
        spend: 11_000,
        currency: 'RUB',
        windowDays: 365,
        tier: { name: 'silver', percent: 3 },
        nextTier: { name: 'gold', minSpend: 50_000 },
        discount: { percent: 3, source: 'tier' },
        manual: null,
      });
    });

    it('a manual discount overrides the tier until it expires; DELETE gives the tier back', async () => {
      const expiresAt = new Date(Date.now() + 30 * DAY).toISOString();
      const put = await sys.consoleCall('PUT', `/v1/crm/contacts/${contactId}/discount`, {
        percent: 15,
        expiresAt,
      });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({
        discount: { percent: 15, source: 'manual' },
        manual: { percent: 15 },
      });
      // Spend reaching gold under the manual discount: the tier moves, the effective discount does not.
      await paidOrder(phone, 40_000);
      const [{ loyalty_tier }] = await sys.sql<{ loyalty_tier: string }>(
        `SELECT loyalty_tier FROM contacts WHERE id = $1`,
        [contactId],
      );
      expect(loyalty_tier).toBe('gold');
      expect(
        (await changes(contactId, 'crm.contact.discount_changed')).map((r) => r.payload.discount),
      ).toEqual([
        { percent: 3, source: 'tier', expiresAt: null },
        { percent: 15, source: 'manual', expiresAt },
      ]);

      // 31 days later the manual discount has expired: the console's pass gives the gold tier back, once.
      await consoleAt(31);
      const rows = await eventually(async () => {
        const r = await changes(contactId, 'crm.contact.discount_changed');
        return r.length >= 3 ? r : null;
      });
      expect(rows.map((r) => r.payload.discount)).toEqual([
        { percent: 3, source: 'tier', expiresAt: null },
        { percent: 15, source: 'manual', expiresAt },
        { percent: 5, source: 'tier', expiresAt: null },
      ]);

      // A manual discount without expiry, then cleared.
      expect(
        (await sys.consoleCall('PUT', `/v1/crm/contacts/${contactId}/discount`, { percent: 7 })).body
          .discount,
      ).toMatchObject({ percent: 7, source: 'manual' });
      const cleared = await sys.consoleCall('DELETE', `/v1/crm/contacts/${contactId}/discount`);
      expect(cleared.status).toBe(200);
      expect(cleared.body).toMatchObject({ discount: { percent: 5, source: 'tier' }, manual: null });
      expect(
        (await changes(contactId, 'crm.contact.discount_changed')).map((r) => r.payload.discount.percent),
      ).toEqual([3, 15, 5, 7, 5]);
    });

    it('refuses bad discounts with a problem and changes nothing', async () => {
      const before = (await changes(contactId, 'crm.contact.discount_changed')).length;
      for (const body of [
        { percent: 150 },
        { percent: 1.234 },
        { percent: 5, expiresAt: '2001-01-01T00:00:00Z' },
        { percent: 5, extra: 1 },
        [],
      ]) {
        const res = await sys.consoleCall('PUT', `/v1/crm/contacts/${contactId}/discount`, body);
        expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      }
      const missing = await sys.consoleCall(
        'PUT',
        '/v1/crm/contacts/00000000-0000-4000-8000-000000000000/discount',
        {
          percent: 5,
        },
      );
      expect([missing.status, missing.body.code]).toEqual([404, 'NOT_FOUND']);
      expect((await sys.consoleCall('DELETE', '/v1/crm/contacts/not-a-uuid/discount')).status).toBe(404);
      expect(await changes(contactId, 'crm.contact.discount_changed')).toHaveLength(before);
    });

    it('a year later the spend has aged out: the tier drops and one row is recorded', async () => {
      await consoleAt(366);
      const rows = await eventually(async () => {
        const r = await changes(contactId, 'crm.contact.discount_changed');
        return r.length >= 6 ? r : null;
      });
      expect(rows).toHaveLength(6);
      expect(rows[5].payload).toMatchObject({
        discount: { percent: 0, source: null },
        previous: { percent: 5, source: 'tier' },
        loyalty: { spend: 0, tier: null },
      });
      const card = await sys.consoleGet(`/v1/crm/contacts/${contactId}`);
      expect(card.body.loyalty).toMatchObject({
        spend: 0,
        tier: null,
        discount: { percent: 0, source: null },
      });
      await consoleAt(0);
    });
  });

  describe('personal account sync', () => {
    const accountOf = async (siteCustomerId: string) =>
      eventually(async () => {
        const rows = await sys.sql<{ contact_id: string; version: string }>(
          `SELECT contact_id, version FROM contact_site_accounts WHERE peer_id = $1 AND site_customer_id = $2`,
          [sys.peerId, siteCustomerId],
        );
        return rows[0] ?? null;
      });
    const cardOf = async (id: string) =>
      (
        await sys.sql<any>(
          `SELECT name, phones, emails, to_char(birthday, 'YYYY-MM-DD') AS birthday, address, consents
             FROM contacts WHERE id = $1`,
          [id],
        )
      )[0];
    let newCard = '';

    it('a new account creates a card; newer versions update it by site id, older ones change nothing', async () => {
      const phone = uniquePhone();
      const v1 = {
        siteCustomerId: 'u-new',
        version: 1,
        name: 'Ivan',
        phones: [phone],
        emails: ['ivan.new@example.com'],
      };
      expect((await customer(v1)).status).toBe(202);
      newCard = (await accountOf('u-new')).contact_id;
      expect(await cardOf(newCard)).toMatchObject({
        name: 'Ivan',
        phones: [phone],
        emails: ['ivan.new@example.com'],
      });

      const v5 = {
        ...v1,
        version: 5,
        name: 'Ivan Petrov',
        birthday: '1990-05-01',
        address: { country: 'RU', city: 'Moscow', line1: 'Tverskaya 1' },
        consents: { sms: true },
      };
      expect((await customer(v5)).status).toBe(202);
      await eventually(async () => (await accountOf('u-new')).version === '5');
      expect((await customer({ ...v1, version: 4, name: 'Stale' })).status).toBe(202);
      // The stale revision is processed (its inbox marker says so), and the card keeps version 5's fields.
      await eventually(async () => {
        const [m] = await sys.sql<{ outcome: string }>(
          `SELECT outcome FROM processed_events WHERE consumer = 'website-connector:customers'
             AND idempotency_key = 'customer:u-new@4'`,
        );
        return m?.outcome === 'stale';
      });
      expect(await cardOf(newCard)).toEqual({
        name: 'Ivan Petrov',
        phones: [phone],
        emails: ['ivan.new@example.com'],
        birthday: '1990-05-01',
        address: { country: 'RU', city: 'Moscow', line1: 'Tverskaya 1' },
        consents: { sms: true },
      });
      // A site's own change is never echoed back to it.
      expect(await changes(newCard, 'crm.contact.updated')).toEqual([]);
    });

    it('an account lands on the card holding its phone (any format), else its email', async () => {
      const phone = uniquePhone();
      const byPhone = await paidOrder(phone, 100, { status: 'new', paidAt: undefined });
      const national = `8 ${phone.slice(2, 5)} ${phone.slice(5)}`;
      expect((await customer({ siteCustomerId: 'u-phone', version: 1, phones: [national] })).status).toBe(
        202,
      );
      expect((await accountOf('u-phone')).contact_id).toBe(byPhone);

      const o = order({ customer: { name: 'Olga', email: 'olga.e2e@example.com' } });
      expect((await sys.post('/v1/website/orders', o)).status).toBe(202);
      const [{ contact_id: byEmail }] = await eventually(async () => {
        const r = await sys.sql<{ contact_id: string }>(
          `SELECT contact_id FROM deals WHERE external_id = $1`,
          [o.externalId],
        );
        return r.length ? r : null;
      });
      const extra = uniquePhone();
      expect(
        (
          await customer({
            siteCustomerId: 'u-email',
            version: 1,
            phones: [extra],
            emails: ['Olga.E2E@example.com'],
          })
        ).status,
      ).toBe(202);
      expect((await accountOf('u-email')).contact_id).toBe(byEmail);
      expect((await cardOf(byEmail)).phones).toEqual([extra]);
    });

    it('refuses a bad account at the edge with a problem', async () => {
      const res = await customer({ siteCustomerId: 'u-bad', version: -1, emails: ['nope'] });
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['version']));
    });

    it('a CRM edit of the shared fields records one crm.contact.updated naming the site account', async () => {
      const phone = uniquePhone();
      const res = await sys.consoleCall('PATCH', `/v1/crm/contacts/${newCard}`, {
        name: 'Ivan P. Petrov',
        phones: [phone],
        address: { city: 'Kazan' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: 'Ivan P. Petrov',
        phones: [phone],
        changed: ['name', 'phones', 'address'],
      });
      const rows = await changes(newCard, 'crm.contact.updated');
      expect(rows).toHaveLength(1);
      expect(rows[0].payload).toMatchObject({
        contactId: newCard,
        siteAccounts: [{ peerId: sys.peerId, siteCustomerId: 'u-new' }],
        changed: ['name', 'phones', 'address'],
        name: 'Ivan P. Petrov',
        phones: [phone],
        emails: ['ivan.new@example.com'],
        birthday: '1990-05-01',
        address: { city: 'Kazan' },
      });
      // The same values again: nothing changed, nothing recorded.
      expect(
        (await sys.consoleCall('PATCH', `/v1/crm/contacts/${newCard}`, { name: 'Ivan P. Petrov' })).status,
      ).toBe(200);
      expect(await changes(newCard, 'crm.contact.updated')).toHaveLength(1);
    });

    it('refuses a bad edit with a problem and records nothing', async () => {
      const other = await paidOrder(uniquePhone(), 100, { status: 'new', paidAt: undefined });
      const [{ phones }] = await sys.sql<{ phones: string[] }>(`SELECT phones FROM contacts WHERE id = $1`, [
        other,
      ]);
      const cases: Array<[unknown, number, string]> = [
        [{ phones: ['12'] }, 400, 'VALIDATION_FAILED'],
        [{ birthday: '1990-02-30' }, 400, 'VALIDATION_FAILED'],
        [{ color: 'red' }, 400, 'VALIDATION_FAILED'],
        [{ phones }, 409, 'CONFLICT'],
      ];
      for (const [body, status, code] of cases) {
        const res = await sys.consoleCall('PATCH', `/v1/crm/contacts/${newCard}`, body);
        expect([res.status, res.body.code]).toEqual([status, code]);
      }
      const missing = await sys.consoleCall(
        'PATCH',
        '/v1/crm/contacts/00000000-0000-4000-8000-000000000000',
        {
          name: 'x',
        },
      );
      expect([missing.status, missing.body.code]).toEqual([404, 'NOT_FOUND']);
      expect(await changes(newCard, 'crm.contact.updated')).toHaveLength(1);
    });
  });

  describe('the ERP path', () => {
    it('an invoice paid in the ERP marks the deal paid and records the discount change once', async () => {
      const peer = await sys.consoleCall('POST', '/v1/admin/peers', {
        id: 'erp-loyalty',
        name: 'ERP',
        kind: 'erp',
        scopes: ['erp.*'],
      });
      expect(peer.status).toBe(201);
      const send = (body: unknown) =>
        sys.post('/v1/erp/invoices', body, { authorization: `Bearer ${peer.body.credential.token}` });
      // The gateway learns of the credential by LISTEN/NOTIFY: few tries, far apart (lockout counts failures).
      expect(await eventually(async () => (await send({})).status !== 401, 5_000, 600)).toBe(true);

      const contactId = await paidOrder(uniquePhone(), 20_000, { status: 'new', paidAt: undefined });
      const o = await sys.sql<{ external_id: string }>(
        `SELECT external_id FROM deals WHERE contact_id = $1`,
        [contactId],
      );
      const invoice = {
        number: 'LOY-1',
        kind: 'invoice',
        status: 'paid',
        issueDate: '2026-11-21',
        paidAt: new Date().toISOString(),
        currency: 'RUB',
        dealExternalId: o[0].external_id,
        seller: { name: 'Us' },
        buyer: { name: 'Anna' },
        lines: [{ sku: 'SKU-1', name: 'Thing', quantity: 1, price: 20_000, amount: 20_000 }],
        taxTotal: 0,
        total: 20_000,
        version: 1,
      };
      expect((await send(invoice)).status).toBe(202);
      const rows = await eventually(async () => {
        const r = await changes(contactId, 'crm.contact.discount_changed');
        return r.length ? r : null;
      });
      expect(rows).toHaveLength(1);
      expect(rows[0].payload).toMatchObject({
        discount: { percent: 3, source: 'tier' },
        loyalty: { spend: 20_000, tier: 'silver' },
      });
      // The same invoice again (a newer version, still paid): nothing changes, nothing recorded.
      expect((await send({ ...invoice, version: 2 })).status).toBe(202);
      await eventually(async () => {
        const [i] = await sys.sql<{ version: string }>(`SELECT version FROM invoices WHERE number = 'LOY-1'`);
        return Number(i?.version) === 2;
      });
      expect(await changes(contactId, 'crm.contact.discount_changed')).toHaveLength(1);
    });
  });
});
