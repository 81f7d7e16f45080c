import { eventually, order, TestSystem } from './support/system';

/**
 * Issue 12, finding 6: contacts and call-back tasks are shared by every peer (one CRM per company), but what one
 * peer sends must not tamper with what another peer's customers look like. Allowed and not, as the README's
 * "Security model" states: an identity another peer attaches to a card is recorded with its peer and held
 * unverified (not on the card, matched only for that peer); a call-back task is closed only by an answered call
 * through the PBX peer that missed the call.
 */
describe('cross-peer effects on shared CRM records', () => {
  const sys = new TestSystem('cross-peer');
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    await sys.start(['gateway', 'website-connector', 'telephony-connector', 'console']);
    for (const [id, kind, scopes] of [
      ['shop-a', 'website', ['website.*']],
      ['shop-b', 'website', ['website.*']],
      ['pbx-a', 'telephony', ['telephony.*']],
      ['pbx-b', 'telephony', ['telephony.*']],
    ] as const) {
      const res = await sys.consoleCall('POST', '/v1/admin/peers', { id, name: id, kind, scopes });
      expect(res.status).toBe(201);
      tokens[id] = res.body.credential.token;
    }
    for (const peer of Object.keys(tokens)) {
      const path = peer.startsWith('pbx') ? '/v1/telephony/events' : '/v1/website/orders';
      // A bad body answers 400 once the gateway knows the peer (401 before).
      expect(
        await eventually(
          async () => (await sys.post(path, {}, { authorization: `Bearer ${tokens[peer]}` })).status === 400,
          10_000,
        ),
      ).toBe(true);
    }
  });
  afterAll(() => sys.destroy());

  const sendOrder = (peer: string, body: Record<string, unknown>) =>
    sys.post('/v1/website/orders', body, { authorization: `Bearer ${tokens[peer]}` });

  async function contactOf(phone: string): Promise<any> {
    const found = await eventually(async () => {
      const res = await sys.consoleGet(`/v1/crm/contacts?phone=${encodeURIComponent(phone)}`);
      return res.body.items?.length ? res.body.items[0] : null;
    });
    expect(found).toBeTruthy();
    return (await sys.consoleGet(`/v1/crm/contacts/${found.id}`)).body;
  }

  it("another peer's email for a known customer is recorded with its peer but held unverified, off the card", async () => {
    const phone = '+79125550101';
    const own = order({ customer: { name: 'Anna', phone, email: 'anna@shop-a.example' } });
    expect((await sendOrder('shop-a', own)).status).toBe(202);
    const card = await contactOf(phone);
    expect(card.emails).toEqual(['anna@shop-a.example']);

    // Shop B names the same phone with its own email (e.g. to receive the customer's notifications).
    const foreign = order({ customer: { name: 'Anna', phone, email: 'attacker@shop-b.example' } });
    expect((await sendOrder('shop-b', foreign)).status).toBe(202);
    const deal = await eventually(async () => {
      const rows = await sys.sql<{ contact_id: string }>(
        `SELECT contact_id FROM deals WHERE external_id = $1`,
        [foreign.externalId],
      );
      return rows[0] ?? null;
    });
    // Its order still lands on the customer's card (one CRM) …
    expect(deal.contact_id).toBe(card.id);
    const after = (await sys.consoleGet(`/v1/crm/contacts/${card.id}`)).body;
    // … but its email is not the customer's: not on the card, recorded with its peer, unverified.
    expect(after.emails).toEqual(['anna@shop-a.example']);
    const identities = Object.fromEntries(
      after.identities.map((i: any) => [i.value, { peerId: i.peerId, verified: i.verified }]),
    );
    expect(identities).toEqual({
      [phone]: { peerId: 'shop-a', verified: true },
      'anna@shop-a.example': { peerId: 'shop-a', verified: true },
      'attacker@shop-b.example': { peerId: 'shop-b', verified: false },
    });

    // Shop A's next order by the unverified email alone does not find the customer's card through it.
    const byEmail = order({ customer: { name: 'Someone', email: 'attacker@shop-b.example' } });
    expect((await sendOrder('shop-a', byEmail)).status).toBe(202);
    const other = await eventually(async () => {
      const rows = await sys.sql<{ contact_id: string }>(
        `SELECT contact_id FROM deals WHERE external_id = $1`,
        [byEmail.externalId],
      );
      return rows[0] ?? null;
    });
    expect(other.contact_id).not.toBe(card.id);
    // The same peer's own orders still match its own identities.
    const again = order({ customer: { name: 'Anna', phone, email: 'anna@shop-a.example' } });
    expect((await sendOrder('shop-a', again)).status).toBe(202);
    const same = await eventually(async () => {
      const rows = await sys.sql<{ contact_id: string }>(
        `SELECT contact_id FROM deals WHERE external_id = $1`,
        [again.externalId],
      );
      return rows[0] ?? null;
    });
    expect(same.contact_id).toBe(card.id);
  });

  it("a PBX cannot close another PBX's call-back task with an answered call; its own answered call does", async () => {
    const phone = '+79125550202';
    const at = Date.parse('2026-11-23T11:00:00Z');
    const t = (s: number) => new Date(at + s * 1000).toISOString();
    const call = (pbx: string, id: string, answered: boolean, offset: number) => {
      const base = {
        provider: 'generic',
        providerCallId: id,
        direction: 'inbound',
        from: phone,
        to: '+74950000001',
      };
      const events = answered
        ? [
            { type: 'started', ...base, occurredAt: t(offset) },
            { type: 'answered', ...base, occurredAt: t(offset + 5), extension: '101' },
            {
              type: 'ended',
              ...base,
              occurredAt: t(offset + 60),
              disposition: 'answered',
              durationSeconds: 60,
            },
          ]
        : [
            { type: 'started', ...base, occurredAt: t(offset) },
            { type: 'ended', ...base, occurredAt: t(offset + 20), disposition: 'no-answer' },
          ];
      return Promise.all(
        events.map((e) => sys.post('/v1/telephony/events', e, { authorization: `Bearer ${tokens[pbx]}` })),
      );
    };
    const statuses = async (p: Promise<Response[]>) => (await p).map((r) => r.status);
    expect(await statuses(call('pbx-a', 'xp-miss', false, 0))).toEqual([202, 202]);
    const task = await eventually(async () => {
      const rows = await sys.sql<any>(`SELECT * FROM tasks WHERE phone = $1 AND kind = 'call_back'`, [phone]);
      return rows[0] ?? null;
    });
    expect(task).toMatchObject({ status: 'open' });

    // PBX B reports an answered call from that number later: the task stays open.
    expect(await statuses(call('pbx-b', 'xp-forged', true, 300))).toEqual([202, 202, 202]);
    await eventually(async () => {
      const rows = await sys.sql<any>(
        `SELECT status FROM call_logs WHERE provider_call_id = 'xp-forged' AND status = 'completed'`,
      );
      return rows.length ? rows : null;
    });
    const [still] = await sys.sql<any>(`SELECT status FROM tasks WHERE id = $1`, [task.id]);
    expect(still.status).toBe('open');

    // PBX A's own answered call closes it.
    expect(await statuses(call('pbx-a', 'xp-back', true, 600))).toEqual([202, 202, 202]);
    const closed = await eventually(async () => {
      const rows = await sys.sql<any>(`SELECT * FROM tasks WHERE id = $1 AND status = 'done'`, [task.id]);
      return rows[0] ?? null;
    });
    expect(closed).toBeTruthy();
  });
});
