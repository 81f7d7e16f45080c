import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Call logs (one row per conversation, keyed by the provider's call grouping) with their event timeline;
 * call-tracking channel on leads; call-back tasks keyed by the customer's phone, at most one open per phone.
 */
export class CallLogs1764100000000 implements MigrationInterface {
  name = 'CallLogs1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE call_logs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        peer_id text NOT NULL,
        provider text NOT NULL,
        call_key text NOT NULL,
        provider_call_id text NOT NULL,
        direction text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
        from_number text NOT NULL,
        to_number text NOT NULL,
        customer_phone text,
        caller_name text,
        line text,
        extension text,
        manager_id uuid REFERENCES managers(id),
        contact_id uuid REFERENCES contacts(id),
        lead_id uuid REFERENCES leads(id),
        lead_created boolean NOT NULL DEFAULT false,
        tracking_channel text,
        status text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'completed')),
        started_at timestamptz NOT NULL,
        answered_at timestamptz,
        ended_at timestamptz,
        wait_seconds int,
        talk_seconds int,
        disposition text CHECK (disposition IN ('answered', 'missed', 'busy', 'failed', 'no-answer', 'cancelled', 'voicemail')),
        hangup_cause text,
        recording_url text,
        recording_id text,
        callback_task_id uuid,
        event_count int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT call_logs_call_uq UNIQUE (peer_id, provider, call_key)
      );
      CREATE INDEX call_logs_started ON call_logs (started_at DESC);
      CREATE INDEX call_logs_customer_phone ON call_logs (customer_phone, started_at DESC);
      CREATE INDEX call_logs_contact ON call_logs (contact_id, started_at DESC) WHERE contact_id IS NOT NULL;
      CREATE INDEX call_logs_lead ON call_logs (lead_id) WHERE lead_id IS NOT NULL;
      CREATE INDEX call_logs_manager ON call_logs (manager_id, started_at DESC);

      CREATE TABLE call_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        call_log_id uuid NOT NULL REFERENCES call_logs(id) ON DELETE CASCADE,
        event_id uuid NOT NULL UNIQUE,
        type text NOT NULL,
        provider_call_id text NOT NULL,
        sequence bigint,
        occurred_at timestamptz NOT NULL,
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX call_events_call ON call_events (call_log_id, occurred_at);

      ALTER TABLE leads ADD COLUMN tracking_channel text;
      ALTER TABLE tasks ADD COLUMN phone text;
      ALTER TABLE tasks ADD COLUMN call_log_id uuid REFERENCES call_logs(id);
      CREATE UNIQUE INDEX tasks_one_open_callback_per_phone ON tasks (phone)
        WHERE kind = 'call_back' AND status = 'open';
      ALTER TABLE call_logs ADD CONSTRAINT call_logs_callback_task_fk FOREIGN KEY (callback_task_id) REFERENCES tasks(id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE call_logs DROP CONSTRAINT call_logs_callback_task_fk;
      DROP INDEX tasks_one_open_callback_per_phone;
      ALTER TABLE tasks DROP COLUMN call_log_id, DROP COLUMN phone;
      ALTER TABLE leads DROP COLUMN tracking_channel;
      DROP TABLE call_events, call_logs;
    `);
  }
}
