import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 20 (cost must not grow with history): processed_events, the inbox, kept every marker forever. It is
 * now range-partitioned on received_on — the UTC day the gateway received the event, read from the UUIDv7 event
 * id, so a redelivery of the same event always falls in the same partition — a partition per week
 * (INBOX_PARTITION_DAYS), and partition maintenance drops whole weeks older than
 * database.idempotencyWindowDays. A default partition keeps rows no partition covers (nothing is lost if
 * maintenance fell behind).
 *
 * Unique keys must contain the partition key: (consumer, event_id, received_on) still absorbs every broker
 * redelivery (same id, same day); (consumer, peer_id, idempotency_key, received_on) absorbs a re-post the same
 * day; a re-post on another day is found by the inbox's lookup across the partitions, under an advisory lock
 * on the key (libs/database/src/inbox.ts).
 *
 * Existing markers are copied into the new table (received_on from the UUIDv7 id, else processed_at), into week
 * partitions made here for the last 31 days they cover (and the days ahead maintenance would make); older markers
 * go to the default partition, where the first maintenance pass deletes those past the window.
 */
export class InboxPartitions1766000000000 implements MigrationInterface {
  name = 'InboxPartitions1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION uuid_v7_day(id uuid, fallback timestamptz) RETURNS date
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT (CASE WHEN substr(id::text, 15, 1) = '7'
                       THEN to_timestamp(('x' || lpad(substr(replace(id::text, '-', ''), 1, 12), 16, '0'))::bit(64)::bigint / 1000.0)
                       ELSE fallback END AT TIME ZONE 'UTC')::date
        $$;

      ALTER TABLE processed_events RENAME TO processed_events_before_partitioning;
      ALTER INDEX processed_events_processed_at RENAME TO processed_events_before_partitioning_processed_at;
      ALTER TABLE processed_events_before_partitioning
        RENAME CONSTRAINT processed_events_idempotency_uq TO processed_events_before_partitioning_idempotency_uq;
      ALTER TABLE processed_events_before_partitioning
        RENAME CONSTRAINT processed_events_pkey TO processed_events_before_partitioning_pkey;

      CREATE TABLE processed_events (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        peer_id text NOT NULL,
        idempotency_key text NOT NULL,
        event_type text NOT NULL,
        trace_id text,
        outcome text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        received_on date NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date,
        PRIMARY KEY (consumer, event_id, received_on),
        CONSTRAINT processed_events_idempotency_uq UNIQUE (consumer, peer_id, idempotency_key, received_on)
      ) PARTITION BY RANGE (received_on);
      CREATE TABLE processed_events_default PARTITION OF processed_events DEFAULT;
      CREATE INDEX processed_events_processed_at ON processed_events (processed_at);

      -- Week partitions (as InboxPartitions cuts them: 7 days from a day number divisible by 7, named after the
      -- first day) for the window's days the old markers cover, up to the days maintenance makes ahead, so the
      -- copy lands in them rather than in the default partition.
      DO $$
      DECLARE
        today date := (now() AT TIME ZONE 'UTC')::date;
        first date;
        d date;
      BEGIN
        first := greatest(today - 31, least(today - 1, (SELECT min(uuid_v7_day(event_id, processed_at))
                                                          FROM processed_events_before_partitioning)));
        FOR d IN
          SELECT generate_series(date '1970-01-01' + ((first - date '1970-01-01') / 7) * 7, today + 7,
                                 interval '7 days')::date
        LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF processed_events FOR VALUES FROM (%L) TO (%L)',
                         'processed_events_p' || to_char(d, 'YYYYMMDD'), d, d + 7);
        END LOOP;
      END $$;

      INSERT INTO processed_events
        (consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome, processed_at, received_on)
      SELECT consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome, processed_at,
             uuid_v7_day(event_id, processed_at)
        FROM processed_events_before_partitioning;
      DROP TABLE processed_events_before_partitioning;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to one table; a key re-posted on two days has two markers, and the old unique key keeps the first.
    await q.query(`
      ALTER TABLE processed_events RENAME TO processed_events_partitioned;
      ALTER INDEX processed_events_processed_at RENAME TO processed_events_partitioned_processed_at;
      ALTER TABLE processed_events_partitioned
        RENAME CONSTRAINT processed_events_idempotency_uq TO processed_events_partitioned_idempotency_uq;
      ALTER TABLE processed_events_partitioned RENAME CONSTRAINT processed_events_pkey TO processed_events_partitioned_pkey;
      CREATE TABLE processed_events (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        peer_id text NOT NULL,
        idempotency_key text NOT NULL,
        event_type text NOT NULL,
        trace_id text,
        outcome text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id),
        CONSTRAINT processed_events_idempotency_uq UNIQUE (consumer, peer_id, idempotency_key)
      );
      CREATE INDEX processed_events_processed_at ON processed_events (processed_at);
      INSERT INTO processed_events
        (consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome, processed_at)
      SELECT consumer, event_id, peer_id, idempotency_key, event_type, trace_id, outcome, processed_at
        FROM processed_events_partitioned ORDER BY received_on
      ON CONFLICT DO NOTHING;
      DROP TABLE processed_events_partitioned;
      DROP FUNCTION uuid_v7_day(uuid, timestamptz);
    `);
  }
}
