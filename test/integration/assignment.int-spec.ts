import { identityLockKeys, roundRobin } from '@switchboard/crm';
import { lockAll } from '@switchboard/database';
import { randomUUID } from 'node:crypto';
import { useIntegrationDb } from './support/db';
import { leadIntakeFixture } from './support/lead-intake';

const db = useIntegrationDb();
const { leads, contacts, managers, intake, settings } = leadIntakeFixture();
const now = new Date('2026-12-07T10:00:00Z'); // Monday

const submit = (phone: string, peerId = 'shop', formId = 'f') =>
  db().transaction(async (em) => {
    await lockAll(em, identityLockKeys({ phone, email: null }));
    return intake.submit(
      em,
      { kind: 'form', formId, phone, occurredAt: now.toISOString() },
      { peerId, eventId: randomUUID() },
      settings,
      now,
    );
  });
const phone = (i: number) => `+7916${String(i).padStart(7, '0')}`;
const splitOf = async () => {
  const rows: Array<{ name: string | null; n: string }> = await db().query(
    `SELECT m.name, count(*) AS n FROM leads l LEFT JOIN managers m ON m.id = l.responsible_manager_id GROUP BY 1 ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.name ?? 'unassigned', Number(r.n)]));
};

describe('assignment against PostgreSQL', () => {
  beforeEach(() =>
    db().query(
      `TRUNCATE lead_activities, tasks, leads, deals, contact_identities, contacts, assignment_rules, managers CASCADE`,
    ),
  );

  it('splits 100 leads over 3 managers: one reaching capacity, one off duty', async () => {
    await managers.create(db().manager, { name: 'a-free' });
    await managers.create(db().manager, { name: 'b-capped', capacity: 10 });
    await managers.create(db().manager, { name: 'c-off', workingHours: { sat: ['09:00-18:00'] } });
    await Promise.all(Array.from({ length: 100 }, (_, i) => submit(phone(i))));
    expect(await splitOf()).toEqual({ 'a-free': 90, 'b-capped': 10 });
  });

  it('honours source rules, records the deciding rule, and queues when nobody is on duty', async () => {
    const a = await managers.create(db().manager, { name: 'a' });
    const b = await managers.create(db().manager, { name: 'b' });
    await db().transaction((em) =>
      managers.replaceRules(em, [
        { name: 'partner', match: { sources: ['website:partner'] }, strategy: 'fixed', managerIds: [b.id] },
      ]),
    );
    expect(await managers.rules(db().manager)).toEqual([
      { name: 'partner', match: { sources: ['website:partner'] }, strategy: 'fixed', managerIds: [b.id] },
    ]);
    expect(await submit(phone(1), 'partner')).toMatchObject({ managerId: b.id, rule: 'partner' });
    await managers.update(db().manager, a.id, { active: false });
    await managers.update(db().manager, b.id, { workingHours: { sun: ['00:00-24:00'] } });
    expect(await submit(phone(2))).toMatchObject({ outcome: 'created', managerId: null, rule: null });
    expect(await leads.list(db().manager, { limit: 10 })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ phone: phone(2), responsibleManagerId: null, assignmentRule: null }),
      ]),
    );
  });

  it('gives new contacts round robin in the same order as the pure rule', async () => {
    const ms = [
      await managers.create(db().manager, { name: 'a' }),
      await managers.create(db().manager, { name: 'b' }),
      await managers.create(db().manager, { name: 'c' }),
    ];
    const got = await db().transaction(async (em) => {
      const start = await managers.nextTurn(em);
      const made = await contacts.findOrCreateMany(
        em,
        [1, 2, 3, 4].map((i) => ({ phone: phone(100 + i), source: 'test' })),
      );
      return { start, made };
    });
    const ids = ms.map((m) => m.id);
    expect(got.made.map((c) => c.responsibleManagerId)).toEqual(
      [1, 2, 3, 4].map((k) => roundRobin(ids, got.start + k)),
    );
  });

  it('counts open leads and open deals toward a manager’s load', async () => {
    const a = await managers.create(db().manager, { name: 'a' });
    await submit(phone(7));
    const c = await db().transaction((em) => contacts.findOrCreate(em, { phone: phone(8), source: 'test' }));
    await db().query(
      `INSERT INTO deals (peer_id, external_id, contact_id, title, status, amount, currency, source_created_at, source_updated_at, responsible_manager_id, last_event_id)
       VALUES ('p', '1', $1, 'x', 'new', 1, 'RUB', now(), now(), $2, gen_random_uuid()),
              ('p', '2', $1, 'x', 'completed', 1, 'RUB', now(), now(), $2, gen_random_uuid())`,
      [c.id, a.id],
    );
    expect((await managers.loads(db().manager)).get(a.id)).toBe(2);
  });
});
