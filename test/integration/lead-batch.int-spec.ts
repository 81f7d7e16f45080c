import { LeadRequest, identityLockKeys, normalizeIdentity } from '@switchboard/crm';
import { lockAll } from '@switchboard/database';
import { useIntegrationDb } from './support/db';
import { leadIntakeFixture } from './support/lead-intake';

const db = useIntegrationDb();
const { contacts, managers, intake, settings } = leadIntakeFixture();
const now = new Date('2026-12-07T10:00:00Z'); // a Monday
const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();
const phone = (i: number) => `+7916555${String(i).padStart(4, '0')}`;

/** Every path of intake, with people meeting again inside the batch. */
const REQUESTS: LeadRequest[] = [
  { kind: 'form', formId: 'f1', name: 'Anna', phone: phone(1), message: 'quote', occurredAt: at(0) },
  { kind: 'form', formId: 'f1', name: 'Anna', phone: phone(1), message: 'Quote ', occurredAt: at(1) }, // repeat
  { kind: 'form', formId: 'f2', phone: phone(1), email: 'anna@example.com', occurredAt: at(2) }, // attaches
  { kind: 'form', formId: 'f3', email: 'ANNA@example.com', occurredAt: at(3) }, // the lead has no email: new
  { kind: 'form', formId: 'f3', phone: phone(3), email: 'anna@example.com', occurredAt: at(3) }, // by email
  { kind: 'callback', formId: 'cb', name: 'Boris', phone: phone(2), occurredAt: at(4) },
  { kind: 'callback', formId: 'cb2', name: 'Boris', phone: phone(2), occurredAt: at(5) }, // one call-back
  { kind: 'form', name: 'bot', phone: phone(4), honeypot: 'x', occurredAt: at(6) }, // junk
  { kind: 'form', name: 'Vera', phone: phone(4), message: 'hi', occurredAt: at(7) }, // junk is not open: new
  { kind: 'form', name: 'Nobody', phone: '12', occurredAt: at(8) }, // unqualified
  { kind: 'callback', name: 'Petr', phone: '8 900 111-22-33', occurredAt: at(9) }, // known contact
  ...Array.from({ length: 6 }, (_, i) => ({
    kind: 'form' as const,
    formId: 'f9',
    phone: phone(10 + i),
    occurredAt: at(10 + i),
  })),
  { kind: 'form', formId: 'f1', phone: phone(1), message: 'quote', occurredAt: at(30) }, // window over: attaches
];

async function reset() {
  await db().query(
    `TRUNCATE lead_activities, tasks, leads, contact_identities, contacts, assignment_rules, managers CASCADE;
     ALTER SEQUENCE manager_assignment_seq RESTART`,
  );
  await managers.create(db().manager, { name: 'a' });
  await managers.create(db().manager, { name: 'b-capacity-2', capacity: 2 });
  await managers.create(db().manager, { name: 'c' });
  await db().transaction((em) =>
    contacts.findOrCreate(em, { name: 'Petr', phone: '+79001112233', source: 'test' }),
  );
}

const locks = (reqs: LeadRequest[]) => reqs.flatMap((r) => identityLockKeys(normalizeIdentity(r, 'RU')));
const source = (i: number) => ({
  peerId: 'shop',
  eventId: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
});

/** Everything intake wrote, with ids replaced by the order leads were made in and managers by name. */
async function snapshot(outcomes: Array<Record<string, unknown>>) {
  const rows: Array<Record<string, unknown>> = await db().query(
    `SELECT l.id, l.phone, l.email, l.status, l.status_reason, l.assignment_rule, m.name AS manager,
            (SELECT json_agg(json_build_object('kind', a.kind, 'summary', a.summary, 'ref', a.ref_id) ORDER BY a.id)
               FROM lead_activities a WHERE a.lead_id = l.id) AS history
       FROM leads l LEFT JOIN managers m ON m.id = l.responsible_manager_id ORDER BY l.created_at, l.phone`,
  );
  const index = new Map(rows.map((r, i) => [r.id as string, i]));
  const taskRows: Array<Record<string, unknown>> = await db().query(
    `SELECT t.kind, t.phone, t.title, t.due_at, t.lead_id, t.contact_id IS NOT NULL AS for_contact, m.name AS manager
       FROM tasks t LEFT JOIN managers m ON m.id = t.responsible_manager_id ORDER BY t.kind, t.title`,
  );
  const names = new Map((await managers.list(db().manager)).map((m) => [m.id, m.name]));
  return {
    outcomes: outcomes.map((o) => ({
      ...o,
      leadId: o.leadId ? index.get(o.leadId as string) : o.leadId,
      managerId: o.managerId ? names.get(o.managerId as string) : o.managerId,
      contactId: o.contactId ? 'contact' : o.contactId,
    })),
    leads: rows.map(({ id: _id, ...r }) => r),
    tasks: taskRows.map((t) => ({ ...t, lead_id: t.lead_id ? index.get(t.lead_id as string) : null })),
  };
}

describe('batch lead intake against PostgreSQL', () => {
  it('gives a batch the result of taking its requests one by one', async () => {
    await reset();
    const oneByOne: Array<Record<string, unknown>> = [];
    for (const [i, req] of REQUESTS.entries()) {
      oneByOne.push(
        await db().transaction(async (em) => {
          await lockAll(em, locks([req]));
          return intake.submit(em, req, source(i), settings, now);
        }),
      );
    }
    const expected = await snapshot(oneByOne);

    await reset();
    const batch = await db().transaction(async (em) => {
      await lockAll(em, locks(REQUESTS));
      return intake.submitMany(
        em,
        REQUESTS.map((req, i) => ({ req, source: source(i) })),
        settings,
        now,
      );
    });
    const actual = await snapshot(batch);

    expect(actual).toEqual(expected);
    // And the paths were all taken: the comparison is not of two empty results.
    expect(batch.map((o) => o.outcome)).toEqual([
      'created',
      'collapsed',
      'attached',
      'created',
      'attached',
      'created',
      'attached',
      'created',
      'created',
      'created',
      'attached',
      ...Array<string>(6).fill('created'),
      'attached',
    ]);
    expect(actual.tasks.filter((t) => t.kind === 'call_back')).toHaveLength(2);
    expect(actual.leads.filter((l) => l.manager === 'b-capacity-2')).toHaveLength(2);
  });

  it('makes one lead per person from concurrent batches sharing people', async () => {
    await reset();
    const people = Array.from({ length: 10 }, (_, i) => phone(100 + i));
    const batches = Array.from({ length: 5 }, (_, b) =>
      people.map((p, i): LeadRequest => ({ kind: 'form', formId: `b${b}`, phone: p, occurredAt: at(i) })),
    );
    await Promise.all(
      batches.map((reqs, b) =>
        db().transaction(async (em) => {
          await lockAll(em, locks(reqs));
          return intake.submitMany(
            em,
            reqs.map((req, i) => ({ req, source: source(1000 + b * 100 + i) })),
            settings,
            now,
          );
        }),
      ),
    );
    const rows: Array<{ phone: string; n: string }> = await db().query(
      `SELECT phone, count(*) AS n FROM leads WHERE phone = ANY($1) GROUP BY phone`,
      [people],
    );
    expect(rows.map((r) => [r.phone, Number(r.n)]).sort()).toEqual(people.map((p) => [p, 1]));
  });
});
