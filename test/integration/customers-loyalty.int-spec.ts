import {
  CrmChangesRepository,
  CustomersRepository,
  DealStatusChanges,
  InvoiceRepository,
  LoyaltyRepository,
  LoyaltySettings,
  tierFor,
} from '@switchboard/crm';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { useIntegrationDb } from './support/db';

const db = useIntegrationDb();
const changes = new CrmChangesRepository();
const loyalty = new LoyaltyRepository(changes);
const customers = new CustomersRepository(changes, loyalty);

const SETTINGS: LoyaltySettings = {
  tiers: [
    { name: 'silver', minSpend: 10_000, percent: 3 },
    { name: 'gold', minSpend: 50_000, percent: 5 },
  ],
  currency: 'RUB',
  windowDays: 365,
};
const NOW = new Date('2026-12-07T10:00:00Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);

const em = (): EntityManager => db().manager;

async function contact(
  fields: { phone?: string; email?: string; peerId?: string | null } = {},
): Promise<string> {
  const [{ id }] = await em().query(
    `INSERT INTO contacts (name, phones, emails, source) VALUES ('Anna', $1, $2, 'test') RETURNING id`,
    [fields.phone ? [fields.phone] : [], fields.email ? [fields.email] : []],
  );
  for (const [kind, value] of [
    ['phone', fields.phone],
    ['email', fields.email],
  ])
    if (value)
      await em().query(
        `INSERT INTO contact_identities (kind, value, contact_id, peer_id, verified) VALUES ($1, $2, $3, $4, true)`,
        [kind, value, id, fields.peerId ?? null],
      );
  return id as string;
}

async function deal(
  contactId: string,
  d: { amount: number; paidAt?: Date | null; status?: string; currency?: string; test?: boolean },
): Promise<string> {
  const [{ id }] = await em().query(
    `INSERT INTO deals (peer_id, external_id, contact_id, title, status, amount, currency, source_created_at,
                        source_updated_at, paid_at, last_event_id, test)
     VALUES ('shop', $1, $2, 'Order', $3, $4, $5, now(), now(), $6, $7, $8) RETURNING id`,
    [
      randomUUID(),
      contactId,
      d.status ?? 'paid',
      d.amount,
      d.currency ?? 'RUB',
      d.paidAt === undefined ? NOW : d.paidAt,
      randomUUID(),
      d.test ?? false,
    ],
  );
  return id as string;
}

const rowsOf = (contactId: string, type: string): Promise<Array<{ payload: Record<string, any> }>> =>
  em().query(`SELECT payload FROM crm_changes WHERE contact_id = $1 AND type = $2 ORDER BY seq`, [
    contactId,
    type,
  ]);

describe('loyalty SQL', () => {
  it('counts paid deals of the window in the currency, excludes refunded, cancelled, test and foreign ones', async () => {
    const c = await contact({ phone: '+79120000101' });
    await deal(c, { amount: 6_000 });
    await deal(c, { amount: 5_000, paidAt: at(-364) });
    await deal(c, { amount: 90_000, paidAt: at(-366) }); // aged out
    await deal(c, { amount: 90_000, status: 'refunded' });
    await deal(c, { amount: 90_000, status: 'cancelled' });
    await deal(c, { amount: 90_000, currency: 'USD' });
    await deal(c, { amount: 90_000, test: true });
    await deal(c, { amount: 90_000, paidAt: null, status: 'new' }); // not paid

    expect(await loyalty.recompute(em(), [c], SETTINGS, NOW)).toEqual({ changed: 1, skipped: 0 });
    const [card] = await em().query(
      `SELECT loyalty_spend, loyalty_tier, discount, discount_source FROM contacts WHERE id = $1`,
      [c],
    );
    expect(card).toEqual({
      loyalty_spend: '11000.0000',
      loyalty_tier: 'silver',
      discount: '3.00',
      discount_source: 'tier',
    });
    expect(tierFor(11_000, SETTINGS.tiers)?.name).toBe(card.loyalty_tier);
    const rows = await rowsOf(c, 'crm.contact.discount_changed');
    expect(rows).toHaveLength(1);
    expect(rows[0].payload).toMatchObject({
      contactId: c,
      discount: { percent: 3, source: 'tier', expiresAt: null },
      previous: { percent: 0, source: null },
      loyalty: { spend: 11_000, currency: 'RUB', tier: 'silver' },
    });

    // Nothing changed: no second row. The 364-day-old deal ages out two days later: the tier drops, one row.
    await loyalty.recompute(em(), [c], SETTINGS, NOW);
    expect(await rowsOf(c, 'crm.contact.discount_changed')).toHaveLength(1);
    await loyalty.recompute(em(), [c], SETTINGS, at(2));
    const after = await rowsOf(c, 'crm.contact.discount_changed');
    expect(after).toHaveLength(2);
    expect(after[1].payload).toMatchObject({
      discount: { percent: 0, source: null },
      previous: { percent: 3 },
    });
  });

  it('a manual discount overrides the tier until it expires; one row per change of the effective discount', async () => {
    const c = await contact({ phone: '+79120000102' });
    await deal(c, { amount: 60_000 });
    await loyalty.recompute(em(), [c], SETTINGS, NOW);
    expect(
      await loyalty.setManual(em(), c, { percent: 12.5, expiresAt: at(10), setBy: 'op' }, SETTINGS, NOW),
    ).toBe(true);
    // More spend under a manual discount: the tier is kept up to date, the discount is not, no row.
    await deal(c, { amount: 1 });
    await loyalty.recompute(em(), [c], SETTINGS, at(5));
    await loyalty.recompute(em(), [c], SETTINGS, at(11));
    const rows = (await rowsOf(c, 'crm.contact.discount_changed')).map((r) => r.payload.discount);
    expect(rows).toEqual([
      { percent: 5, source: 'tier', expiresAt: null },
      { percent: 12.5, source: 'manual', expiresAt: at(10).toISOString() },
      { percent: 5, source: 'tier', expiresAt: null },
    ]);
    expect(await loyalty.setManual(em(), randomUUID(), null, SETTINGS, NOW)).toBe(false);
  });

  it('recomputes many contacts in one go, recording rows only for those that changed', async () => {
    const a = await contact({ phone: '+79120000103' });
    const b = await contact({ phone: '+79120000104' });
    const none = await contact({ phone: '+79120000105' });
    await deal(a, { amount: 10_000 });
    await deal(b, { amount: 50_000 });
    const r = await loyalty.recompute(em(), [a, b, none, a], SETTINGS, NOW);
    expect(r.changed).toBe(2);
    expect((await rowsOf(a, 'crm.contact.discount_changed'))[0].payload.discount.percent).toBe(3);
    expect((await rowsOf(b, 'crm.contact.discount_changed'))[0].payload.discount.percent).toBe(5);
    expect(await rowsOf(none, 'crm.contact.discount_changed')).toHaveLength(0);
    // The periodic pass finds them as candidates (spend > 0), and not the contact with nothing.
    const all = await loyalty.candidates(em(), null, 10_000, SETTINGS, NOW);
    expect(all).toEqual(expect.arrayContaining([a, b]));
    expect(all).not.toContain(none);
  });

  it('the periodic pass skips a contact another transaction holds, and never waits for it', async () => {
    const c = await contact({ phone: '+79120000106' });
    await deal(c, { amount: 10_000 });
    const runner = db().createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE`, [c]);
      expect(await loyalty.recompute(em(), [c], SETTINGS, NOW, { skipLocked: true })).toEqual({
        changed: 0,
        skipped: 1,
      });
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect((await loyalty.recompute(em(), [c], SETTINGS, NOW, { skipLocked: true })).changed).toBe(1);
  });
});

describe('ERP invoice-paid path', () => {
  it('marks the deal paid and names its contact, whose recompute then counts it', async () => {
    const c = await contact({ phone: '+79120000107' });
    const d = await deal(c, { amount: 20_000, paidAt: null, status: 'new' });
    const invoices = new InvoiceRepository(new DealStatusChanges(new CrmChangesRepository()));
    expect(await invoices.markDealPaid(em(), d, NOW.toISOString())).toBe(c);
    expect(await invoices.markDealPaid(em(), randomUUID(), null)).toBeNull();
    // A 1C order state applies only when newer: the stale one answers false (what decides a recompute).
    const state = { status: 'paid', erpNumber: null, paidAt: null, shippedAt: null, version: 2 };
    expect(await invoices.applyOrderStatus(em(), d, state)).toBe(true);
    expect(await invoices.applyOrderStatus(em(), d, { ...state, version: 1 })).toBe(false);
    // paying announced the deal's new status once; the stale 1C state announced nothing
    expect(await rowsOf(c, 'crm.deal.status_changed')).toHaveLength(1);
    expect((await loyalty.recompute(em(), [c], SETTINGS, NOW)).changed).toBe(1);
    expect((await rowsOf(c, 'crm.contact.discount_changed'))[0].payload.discount).toEqual({
      percent: 3,
      source: 'tier',
      expiresAt: null,
    });
  });
});

describe('site accounts SQL', () => {
  const revision = (over: Partial<Parameters<CustomersRepository['applySiteRevision']>[1]> = {}) => ({
    peerId: 'shop',
    siteCustomerId: randomUUID(),
    version: 1,
    phones: [] as string[],
    emails: [] as string[],
    ...over,
  });
  const card = async (id: string) =>
    (
      await em().query(
        `SELECT name, phones, emails, to_char(birthday, 'YYYY-MM-DD') AS birthday, address, consents
           FROM contacts WHERE id = $1`,
        [id],
      )
    )[0];

  it('creates a card for a new account and applies newer versions only', async () => {
    const r = revision({
      name: 'Ivan',
      phones: ['+79120000201'],
      emails: ['ivan@example.com'],
      birthday: '1990-05-01',
    });
    const first = await customers.applySiteRevision(em(), r, 'website:shop');
    expect(first.outcome).toBe('created');
    expect(await card(first.contactId)).toEqual({
      name: 'Ivan',
      phones: ['+79120000201'],
      emails: ['ivan@example.com'],
      birthday: '1990-05-01',
      address: null,
      consents: {},
    });
    const v3 = await customers.applySiteRevision(
      em(),
      { ...r, version: 3, name: 'Ivan P.', address: { city: 'Moscow' }, consents: { sms: true } },
      'website:shop',
    );
    expect(v3).toEqual({ outcome: 'updated', contactId: first.contactId });
    // An older revision arriving late changes nothing.
    expect(
      (await customers.applySiteRevision(em(), { ...r, version: 2, name: 'Old' }, 'website:shop')).outcome,
    ).toBe('stale');
    expect(await card(first.contactId)).toMatchObject({
      name: 'Ivan P.',
      address: { city: 'Moscow' },
      consents: { sms: true },
    });
    // The site's own changes are never echoed back.
    expect(await rowsOf(first.contactId, 'crm.contact.updated')).toEqual([]);
  });

  it('links an account to the card holding its phone, else its email', async () => {
    const byPhone = await contact({ phone: '+79120000202', email: 'p@example.com', peerId: 'shop' });
    const byEmail = await contact({ email: 'e@example.com', peerId: 'shop' });
    const p = await customers.applySiteRevision(
      em(),
      revision({ phones: ['+79120000202'], emails: ['e@example.com'] }),
      'website:shop',
    );
    expect(p).toEqual({ outcome: 'linked', contactId: byPhone });
    const e = await customers.applySiteRevision(
      em(),
      revision({ phones: ['+79120000299'], emails: ['e@example.com'] }),
      'website:shop',
    );
    expect(e).toEqual({ outcome: 'linked', contactId: byEmail });
    // The new phone came with the same peer's match: verified, on the card.
    expect((await card(byEmail)).phones).toEqual(['+79120000299']);
  });

  it("holds what an account attaches unverified when it was linked through another peer's identity", async () => {
    const other = await contact({ phone: '+79120000203', peerId: 'crm-import' });
    const r = await customers.applySiteRevision(
      em(),
      revision({
        phones: ['+79120000203'],
        emails: ['graft@example.com'],
        name: 'Mallory',
        birthday: '2000-01-01',
      }),
      'website:shop',
    );
    expect(r).toEqual({ outcome: 'linked', contactId: other });
    // Another peer's card: the account fills blanks (birthday) but does not overwrite (name) or add identities.
    expect(await card(other)).toMatchObject({ name: 'Anna', birthday: '2000-01-01', emails: [] });
    expect(
      await em().query(`SELECT peer_id, verified FROM contact_identities WHERE value = 'graft@example.com'`),
    ).toEqual([{ peer_id: 'shop', verified: false }]);
  });

  it('an operator edit records one crm.contact.updated; no change, no row; a phone of another card is refused', async () => {
    const c = await contact({ phone: '+79120000204' });
    const taken = await contact({ phone: '+79120000205' });
    await em().query(
      `INSERT INTO contact_site_accounts (peer_id, site_customer_id, contact_id, version) VALUES ('shop', 'u-1', $1, 1)`,
      [c],
    );
    const r = await customers.edit(
      em(),
      c,
      { name: 'Anna K.', phones: ['+79120000204', '+79120000206'] },
      NOW,
    );
    expect(r).toMatchObject({ status: 'ok', changed: ['name', 'phones'] });
    const rows = await rowsOf(c, 'crm.contact.updated');
    expect(rows).toHaveLength(1);
    expect(rows[0].payload).toMatchObject({
      contactId: c,
      siteAccounts: [{ peerId: 'shop', siteCustomerId: 'u-1' }],
      changed: ['name', 'phones'],
      name: 'Anna K.',
      phones: ['+79120000204', '+79120000206'],
    });
    expect((await customers.edit(em(), c, { name: 'Anna K.' }, NOW)).status).toBe('ok');
    expect(await rowsOf(c, 'crm.contact.updated')).toHaveLength(1);
    // Removing a phone detaches it; a phone another card holds is refused.
    await customers.edit(em(), c, { phones: ['+79120000206'] }, NOW);
    expect(
      await em().query(`SELECT contact_id FROM contact_identities WHERE value = '+79120000204'`),
    ).toEqual([]);
    expect(await customers.edit(em(), c, { phones: ['+79120000205'] }, NOW)).toEqual({
      status: 'identity_taken',
      identities: ['phone:+79120000205'],
    });
    expect(taken).toBeTruthy();
    expect(await customers.edit(em(), randomUUID(), { name: 'x' }, NOW)).toEqual({ status: 'not_found' });
  });
});
