import { TrafficRetention } from '@switchboard/database';
import { useIntegrationDb } from './support/db';

/** Issue 20: the unpartitioned tables that grow with traffic keep a window of settled rows, nothing in flight. */
const db = useIntegrationDb();
const NOW = new Date('2026-12-07T12:00:00Z');
const DAYS = 30;
const ago = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

describe('TrafficRetention', () => {
  let retention: TrafficRetention;
  const ids = async (sql: string): Promise<string[]> =>
    (await db().query<Array<{ k: string }>>(sql)).map((r) => r.k).sort();

  beforeAll(async () => {
    retention = new TrafficRetention(db(), DAYS);
    await db().query(`INSERT INTO peers (id, name, kind) VALUES ('site', 'site', 'website')`);
    await db().query(
      `INSERT INTO outbound_endpoints (peer_id, url, secret, event_types) VALUES ('site', 'http://x', 's', $1)`,
      [['crm.deal.status_changed']],
    );
  });

  beforeEach(async () => {
    await db().query(
      `TRUNCATE outbound_deliveries, message_deliveries, otp_codes, crm_changes, crm_change_cursors`,
    );
  });

  const delivery = (seq: number, status: string, createdAt: Date) =>
    db().query(
      `INSERT INTO outbound_deliveries (peer_id, change_seq, type, aggregate_key, supersede_key, body, status,
                                        next_attempt_at, created_at)
       VALUES ('site', $1, 'crm.deal.status_changed', 'contact:c', 'k', '{}', $2, $3, $3)`,
      [seq, status, createdAt],
    );

  it('deletes settled outbound deliveries past the window, keeps pending ones and recent ones', async () => {
    await delivery(1, 'delivered', ago(40));
    await delivery(2, 'failed', ago(31));
    await delivery(3, 'superseded', ago(60));
    await delivery(4, 'pending', ago(90)); // a paused endpoint's: waits however long
    await delivery(5, 'delivered', ago(29));
    expect(await retention.applyRetention(NOW)).toEqual({ outbound_deliveries: 3 });
    expect(await ids(`SELECT change_seq::text AS k FROM outbound_deliveries`)).toEqual(['4', '5']);
    expect(await retention.applyRetention(NOW)).toEqual({});
  });

  it('deletes in bounded statements until none is left (12,000 rows)', async () => {
    await db().query(
      `INSERT INTO outbound_deliveries (peer_id, change_seq, type, aggregate_key, supersede_key, body, status,
                                        next_attempt_at, created_at)
       SELECT 'site', n, 't', 'a', 'k', '{}', 'delivered', $1, $1 FROM generate_series(1, 12000) n`,
      [ago(45)],
    );
    expect(await retention.applyRetention(NOW)).toEqual({ outbound_deliveries: 12000 });
    expect(await db().query(`SELECT count(*)::int AS n FROM outbound_deliveries`)).toEqual([{ n: 0 }]);
  });

  it('deletes codes expired before the window with their messages, and given-up order-status messages', async () => {
    const code = (id: string, expires: Date) =>
      db().query(
        `INSERT INTO otp_codes (id, peer_id, phone, purpose, code_hash, max_attempts, created_at, expires_at)
         VALUES ($1, 'site', '+79990000000', 'login', 'h', 3, $2, $2)`,
        [id, expires],
      );
    const message = (id: string, source: { otp?: string; change?: number }, giveUp: Date) =>
      db().query(
        `INSERT INTO message_deliveries (id, kind, otp_id, change_seq, phone, template, language, state,
                                         give_up_at, created_at)
         VALUES ($1, $2, $3, $4, '+79990000000', 't', 'ru', 'whatsapp_sent', $5, $5)`,
        [id, source.otp ? 'otp' : 'order_status', source.otp ?? null, source.change ?? null, giveUp],
      );
    const OLD_CODE = '00000000-0000-7000-8000-000000000001';
    const NEW_CODE = '00000000-0000-7000-8000-000000000002';
    await code(OLD_CODE, ago(31));
    await code(NEW_CODE, ago(1));
    await message('00000000-0000-7000-8000-0000000000a1', { otp: OLD_CODE }, ago(31));
    await message('00000000-0000-7000-8000-0000000000a2', { otp: NEW_CODE }, ago(1));
    await message('00000000-0000-7000-8000-0000000000b1', { change: 7 }, ago(35));
    await message('00000000-0000-7000-8000-0000000000b2', { change: 8 }, ago(2));
    expect(await retention.applyRetention(NOW)).toEqual({ message_deliveries: 1, otp_codes: 1 });
    expect(await ids(`SELECT id::text AS k FROM otp_codes`)).toEqual([NEW_CODE]);
    expect(await ids(`SELECT id::text AS k FROM message_deliveries`)).toEqual([
      '00000000-0000-7000-8000-0000000000a2',
      '00000000-0000-7000-8000-0000000000b2',
    ]);
  });

  it('deletes outbox rows only behind every reader and past the window; none with no reader yet', async () => {
    for (let seq = 1; seq <= 6; seq++) {
      await db().query(
        `INSERT INTO crm_changes (seq, type, aggregate_key, payload, occurred_at, created_at)
         VALUES ($1, 'crm.deal.status_changed', 'contact:c', '{}', $2, $2)`,
        [seq, seq <= 5 ? ago(40) : ago(1)],
      );
    }
    expect(await retention.applyRetention(NOW)).toEqual({});
    await db().query(
      `INSERT INTO crm_change_cursors (consumer, seq) VALUES ('webhooks', 6), ('messages', 3)`,
    );
    expect(await retention.applyRetention(NOW)).toEqual({ crm_changes: 3 });
    expect(await ids(`SELECT seq::text AS k FROM crm_changes`)).toEqual(['4', '5', '6']);
    await db().query(`UPDATE crm_change_cursors SET seq = 6`);
    // Row 6 is behind both readers but inside the window.
    expect(await retention.applyRetention(NOW)).toEqual({ crm_changes: 2 });
    expect(await ids(`SELECT seq::text AS k FROM crm_changes`)).toEqual(['6']);
  });
});
