import { LeadRequest, identityLockKeys, normalizeIdentity } from '@switchboard/crm';
import { lockAll } from '@switchboard/database';
import { randomUUID } from 'node:crypto';
import { useIntegrationDb } from './support/db';
import { leadIntakeFixture } from './support/lead-intake';

const db = useIntegrationDb();
const { leads, contacts, managers, tasks, intake, settings } = leadIntakeFixture({
  default: 15,
  'website:shop': 5,
});
const now = new Date('2026-12-07T10:00:00Z'); // a Monday
const request = (over: Partial<LeadRequest> = {}): LeadRequest => ({
  kind: 'form',
  formId: 'contact-us',
  name: 'Anna',
  phone: '+7 912 345-67-89',
  occurredAt: now.toISOString(),
  ...over,
});

/** One request as the connector runs it: its own transaction, the person's identity locks held. */
const submit = (req: LeadRequest, peerId = 'shop', at = now) =>
  db().transaction(async (em) => {
    await lockAll(em, identityLockKeys(normalizeIdentity(req, 'RU')));
    return intake.submit(em, req, { peerId, eventId: randomUUID() }, settings, at);
  });

const reset = () =>
  db().query(
    `TRUNCATE lead_activities, tasks, leads, contact_identities, contacts, assignment_rules, managers CASCADE`,
  );

describe('lead intake against PostgreSQL', () => {
  beforeEach(reset);

  it('makes a qualified, assigned lead with its first-contact task and history', async () => {
    const m = await managers.create(db().manager, { name: 'Olga' });
    const out = await submit(request({ utm: { source: 'yandex', campaign: 'winter' } }));
    expect(out).toMatchObject({ outcome: 'created', status: 'new', managerId: m.id, rule: 'default' });
    const lead = (await leads.get(db().manager, (out as { leadId: string }).leadId))!;
    expect(lead).toMatchObject({
      phone: '+79123456789',
      utmSource: 'yandex',
      utmCampaign: 'winter',
      assignmentRule: 'default',
    });
    const t = await tasks.list(db().manager, { leadId: lead.id });
    expect(t).toEqual([
      expect.objectContaining({
        kind: 'call_lead',
        responsibleManagerId: m.id,
        dueAt: new Date('2026-12-07T10:05:00Z'),
      }),
    ]);
    const history = await leads.history(db().manager, lead.id);
    expect(history.map((h) => h.kind)).toEqual(['request', 'status', 'assignment']);
  });

  it('keeps a request with neither valid phone nor email as unqualified, and spam as junk', async () => {
    const bad = await submit(request({ phone: '12', email: 'nobody@' }));
    const spam = await submit(request({ name: 'win http://x.example', phone: '+79990001122' }));
    expect(bad).toMatchObject({ outcome: 'created', status: 'unqualified', managerId: null });
    expect(spam).toMatchObject({ outcome: 'created', status: 'junk' });
    const rows = await leads.list(db().manager, { limit: 10 });
    expect(rows.map((r) => [r.status, r.statusReason]).sort()).toEqual([
      ['junk', 'linkInName'],
      ['unqualified', 'invalidPhone'],
    ]);
  });

  it('collapses the same request repeated within minutes, but not after the window', async () => {
    const first = await submit(request({ message: 'Need a quote' }));
    const again = await submit(
      request({ message: 'need a quote ' }),
      'shop',
      new Date(now.getTime() + 60_000),
    );
    expect(again).toEqual({ outcome: 'collapsed', leadId: (first as { leadId: string }).leadId });
    expect(await leads.list(db().manager, { limit: 10 })).toHaveLength(1);
  });

  it('attaches a request from a known contact or open lead to that card, responsible unchanged', async () => {
    const [olga, ivan] = [
      await managers.create(db().manager, { name: 'Olga' }),
      await managers.create(db().manager, { name: 'Ivan' }),
    ];
    const first = await submit(request({ email: 'anna@example.com' }));
    const byEmail = await submit(request({ phone: null, email: 'ANNA@example.com', formId: 'other' }));
    expect(byEmail).toMatchObject({
      outcome: 'attached',
      leadId: (first as { leadId: string }).leadId,
      managerId: (first as { managerId: string }).managerId,
    });
    await db().transaction((em) =>
      contacts.findOrCreate(em, { name: 'Petr', phone: '+79001112233', source: 'test' }),
    );
    const fromContact = await submit(request({ phone: '8 900 111-22-33' }));
    expect(fromContact).toMatchObject({ outcome: 'attached', leadId: null });
    expect([olga.id, ivan.id]).toContain((fromContact as { managerId: string }).managerId);
    expect(await leads.list(db().manager, { limit: 10 })).toHaveLength(1);
  });

  it('makes one lead per person from 50 concurrent requests of 10 people', async () => {
    await managers.create(db().manager, { name: 'Olga' });
    const people = Array.from({ length: 10 }, (_, i) => `+7912000${String(i).padStart(4, '0')}`);
    const outs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => submit(request({ phone: people[i % 10], formId: `f${i}` }))),
    );
    expect(outs.filter((o) => o.outcome === 'created')).toHaveLength(10);
    const rows = await leads.list(db().manager, { limit: 100 });
    expect(new Set(rows.map((r) => r.phone))).toEqual(new Set(people));
  });

  it('creates a call-back task for a callback request', async () => {
    await submit(request({ kind: 'callback' }));
    const t = await tasks.list(db().manager, { status: 'open' });
    expect(t.map((x) => x.kind).sort()).toEqual(['call_back', 'call_lead']);
    expect(t.find((x) => x.kind === 'call_back')).toMatchObject({
      phone: '+79123456789',
      dueAt: new Date('2026-12-07T10:30:00Z'),
    });
  });
});
