import { LeadsRepository, TasksRepository } from '@switchboard/crm';
import { useIntegrationDb } from './support/db';

const db = useIntegrationDb();
const tasks = new TasksRepository();
const leads = new LeadsRepository();

describe('tasks and lead lifecycle SQL', () => {
  it('lists due and overdue tasks at a given moment, completes once, reschedules', async () => {
    const due = new Date('2026-12-07T10:00:00Z');
    const t = await tasks.create(db().manager, { kind: 'follow_up', title: 'Call Anna', dueAt: due });
    expect(await tasks.list(db().manager, { overdueAt: new Date('2026-12-07T09:59:00Z') })).toEqual([]);
    expect(
      (await tasks.list(db().manager, { overdueAt: new Date('2026-12-07T10:01:00Z') })).map((x) => x.id),
    ).toEqual([t.id]);
    const moved = await tasks.update(db().manager, t.id, { dueAt: new Date('2026-12-08T10:00:00Z') });
    expect(moved?.dueAt).toEqual(new Date('2026-12-08T10:00:00Z'));
    expect(await tasks.countOverdue(db().manager, new Date('2026-12-07T12:00:00Z'))).toBe(0);
    expect(await tasks.complete(db().manager, t.id, 'reached', due)).toMatchObject({
      status: 'done',
      result: 'reached',
    });
    expect(await tasks.complete(db().manager, t.id, 'again', due)).toBeNull();
  });

  it('guards lead transitions in one statement: the first claim wins', async () => {
    const lead = await leads.insert(db().manager, { sourceChannel: 'website:shop', phone: '+79120000001' });
    const claims = await Promise.all(
      ['a', 'b'].map(() =>
        leads.transition(db().manager, lead.id, ['new'], {
          status: 'in_progress',
          firstContactAt: new Date(),
        }),
      ),
    );
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
    expect(
      await leads.addActivity(db().manager, lead.id, {
        kind: 'call',
        summary: 'x',
        details: {},
        actor: null,
        refId: 'call-1',
      }),
    ).toBe(true);
    expect(
      await leads.addActivity(db().manager, lead.id, {
        kind: 'call',
        summary: 'x',
        details: {},
        actor: null,
        refId: 'call-1',
      }),
    ).toBe(false);
  });
});
