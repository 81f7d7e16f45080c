import type { AppConfig } from '@switchboard/config';
import { CrmChangesRepository } from '@switchboard/crm';
import { OutboundDeliveries, sqlFromDataSource } from '@switchboard/peer-auth';
import { ChangeReader } from '../../apps/outbound/src/webhooks/change-reader';
import { systemClock } from '../../apps/outbound/src/webhooks/clock';
import { useIntegrationDb } from './support/db';

/**
 * The webhook reader of the CRM outbox over a backlog with sequence gaps (rolled-back transactions): the gaps
 * wait gapWaitMs together, however far apart in the backlog, not one read after another.
 */
const db = useIntegrationDb();
const GAP_WAIT_MS = 400;
const GAPS = [500, 1500, 2500, 3500];
const LAST = 4000;

describe('ChangeReader over a backlog with gaps', () => {
  let reader: ChangeReader;

  beforeAll(async () => {
    const config = { outbound: { gapWaitMs: GAP_WAIT_MS } } as AppConfig;
    reader = new ChangeReader(
      db(),
      new CrmChangesRepository(),
      new OutboundDeliveries(sqlFromDataSource(db())),
      systemClock,
      config,
    );
    await reader.init();
    await db().query(
      `INSERT INTO crm_changes (seq, type, aggregate_key, payload, occurred_at)
       SELECT n, 'crm.deal.status_changed', 'contact:' || n, '{}', now()
         FROM generate_series(1, $1) n WHERE n <> ALL($2::int[])`,
      [LAST, GAPS],
    );
  });

  const cursor = async () =>
    Number(
      (
        await db().query<Array<{ seq: string }>>(
          `SELECT seq FROM crm_change_cursors WHERE consumer = 'webhooks'`,
        )
      )[0].seq,
    );

  it('stops at the first young gap, then passes every gap of the backlog after one wait', async () => {
    expect(await reader.readOnce()).toBe(GAPS[0] - 1);
    expect(await reader.readOnce()).toBe(0);
    expect(await cursor()).toBe(GAPS[0] - 1);

    await new Promise((resolve) => setTimeout(resolve, GAP_WAIT_MS + 50));
    let read = 0;
    for (let i = 0; i < 10 && (await cursor()) < LAST; i++) read += await reader.readOnce();
    expect(await cursor()).toBe(LAST);
    expect(read).toBe(LAST - GAPS.length - (GAPS[0] - 1));
  });
});
