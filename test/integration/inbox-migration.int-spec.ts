import { InboxPartitions1766000000000 } from '../../libs/database/src/migrations/1766000000000-inbox-partitions';
import { v7 as uuidv7 } from 'uuid';
import { useIntegrationDb } from './support/db';

/**
 * Migration 1766000000000 converts an existing inbox: every marker of the unpartitioned table moves into the
 * partitioned one, on the day of its UUIDv7 id (else of processed_at), and back on down().
 */
const db = useIntegrationDb();

it('existing markers move into the partitioned table, and back', async () => {
  const migration = new InboxPartitions1766000000000();
  const recentDay = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
  const week = 7 * 86_400_000;
  const recentWeek = new Date(Math.floor((Date.now() - 3 * 86_400_000) / week) * week)
    .toISOString()
    .slice(0, 10);
  const runner = db().createQueryRunner();
  try {
    await migration.down(runner);
    await runner.query(
      `INSERT INTO processed_events (consumer, event_id, peer_id, idempotency_key, event_type, outcome, processed_at)
       VALUES ('c', '019afa3e-5c00-7000-8000-000000000001', 'p', 'v7', 't', 'created', '2026-12-07T10:00:00Z'),
              ('c', '9f1c1a4e-1111-4111-8111-111111111111', 'p', 'v4', 't', 'updated', '2026-11-01T10:00:00Z'),
              ('c', $1, 'p', 'recent', 't', 'created', now() - interval '3 days')`,
      [uuidv7({ msecs: Date.now() - 3 * 86_400_000 })],
    );
    await migration.up(runner);
    expect(
      await runner.query(
        `SELECT idempotency_key AS key, received_on::text AS day, outcome, tableoid::regclass::text AS part
           FROM processed_events ORDER BY key`,
      ),
    ).toEqual([
      // within the last 31 days: its week's partition, made by the migration
      {
        key: 'recent',
        day: recentDay,
        outcome: 'created',
        part: `processed_events_p${recentWeek.replace(/-/g, '')}`,
      },
      // older (as of when this runs): the default partition, which maintenance clears past the window
      { key: 'v4', day: '2026-11-01', outcome: 'updated', part: 'processed_events_default' },
      { key: 'v7', day: expect.any(String), outcome: 'created', part: 'processed_events_default' },
    ]);
    const [{ day }] = await runner.query(
      `SELECT received_on::text AS day FROM processed_events WHERE idempotency_key = 'v7'`,
    );
    expect(day).toBe(new Date(0x019afa3e5c00).toISOString().slice(0, 10));
    expect(
      await runner.query(`SELECT 1 FROM pg_class WHERE relname LIKE 'processed_events_before%'`),
    ).toEqual([]);

    await migration.down(runner);
    expect(await runner.query(`SELECT idempotency_key AS key FROM processed_events ORDER BY 1`)).toEqual([
      { key: 'recent' },
      { key: 'v4' },
      { key: 'v7' },
    ]);
    await migration.up(runner);
  } finally {
    await runner.release();
  }
});
