import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The interface access log: one row per inbound or outbound interface call, range-partitioned by day on
 * started_at so retention drops whole partitions. A default partition keeps rows no day partition covers
 * (nothing is lost if maintenance fell behind); maintenance creates day partitions ahead of time.
 * Alerts raised by the rules are kept in `alerts`; operator actions on the log in `access_log_audit`.
 */
export class AccessLog1764200000000 implements MigrationInterface {
  name = 'AccessLog1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE access_log (
        id uuid NOT NULL,
        direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        peer_id text,
        service text NOT NULL,
        method text NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms real NOT NULL,
        result text NOT NULL CHECK (result IN ('accepted', 'rejected', 'failed')),
        http_status int,
        error_code text,
        event_id uuid,
        client_ip inet,
        bytes_in int,
        bytes_out int,
        correlation_id text,
        body_hash text,
        body text,
        PRIMARY KEY (started_at, id)
      ) PARTITION BY RANGE (started_at);
      CREATE INDEX access_log_by_time ON access_log (started_at DESC, id DESC);
      CREATE INDEX access_log_by_peer ON access_log (peer_id, started_at DESC, id DESC);
      CREATE INDEX access_log_by_service ON access_log (service, started_at DESC, id DESC);
      CREATE INDEX access_log_by_code ON access_log (error_code, started_at DESC) WHERE error_code IS NOT NULL;
      CREATE TABLE access_log_default PARTITION OF access_log DEFAULT;

      CREATE TABLE access_log_audit (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        range_from timestamptz,
        range_to timestamptz,
        rows_deleted bigint,
        details jsonb NOT NULL DEFAULT '{}'
      );

      CREATE TABLE alerts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        rule text NOT NULL,
        subject text NOT NULL,
        status text NOT NULL CHECK (status IN ('firing', 'resolved')),
        summary text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        fired_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        fired_notified_at timestamptz,
        resolved_notified_at timestamptz
      );
      -- Once per condition until it clears: at most one firing alert per rule and subject.
      CREATE UNIQUE INDEX alerts_one_firing ON alerts (rule, subject) WHERE status = 'firing';
      CREATE INDEX alerts_recent ON alerts (fired_at DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE alerts, access_log_audit, access_log`);
  }
}
