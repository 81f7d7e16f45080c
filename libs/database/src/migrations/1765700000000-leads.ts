import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leads as a card of their own (issue 14): qualification outcome and reason, the request's form/UTM/analytics
 * fields, the assignment rule that decided; managers' capacity, working hours, regions and sources; ordered
 * assignment rules; and each lead's history (requests, calls, orders, tasks, status changes) as activities.
 */
export class Leads1765700000000 implements MigrationInterface {
  name = 'Leads1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE managers
        ADD COLUMN capacity int CHECK (capacity IS NULL OR capacity >= 0),
        ADD COLUMN working_hours jsonb,
        ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC',
        ADD COLUMN regions text[] NOT NULL DEFAULT '{}',
        ADD COLUMN sources text[] NOT NULL DEFAULT '{}';

      ALTER TABLE leads DROP CONSTRAINT leads_status_check;
      ALTER TABLE leads ADD CONSTRAINT leads_status_check
        CHECK (status IN ('new', 'in_progress', 'unqualified', 'junk', 'converted', 'refused'));
      ALTER TABLE leads
        ADD COLUMN kind text,
        ADD COLUMN form_id text,
        ADD COLUMN form_name text,
        ADD COLUMN message text,
        ADD COLUMN consents jsonb,
        ADD COLUMN page_url text,
        ADD COLUMN referrer text,
        ADD COLUMN utm_term text,
        ADD COLUMN utm_content text,
        ADD COLUMN analytics_client_id text,
        ADD COLUMN site_customer_id text,
        ADD COLUMN status_reason text,
        ADD COLUMN assignment_rule text,
        ADD COLUMN first_contact_at timestamptz,
        ADD COLUMN closed_at timestamptz;
      CREATE INDEX leads_status_created ON leads (status, created_at);
      CREATE INDEX leads_manager_open ON leads (responsible_manager_id) WHERE status IN ('new', 'in_progress');

      CREATE TABLE assignment_rules (
        position int PRIMARY KEY,
        name text NOT NULL UNIQUE,
        match jsonb NOT NULL DEFAULT '{}',
        strategy text NOT NULL CHECK (strategy IN ('sticky', 'roundRobin', 'leastLoaded', 'fixed')),
        manager_ids uuid[] NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE lead_activities (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('request', 'call', 'order', 'task', 'status', 'assignment')),
        summary text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        actor text,
        ref_id text,
        occurred_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX lead_activities_lead ON lead_activities (lead_id, occurred_at, id);
      -- One activity per referenced thing (a call, an order, an event) on a card: redeliveries add nothing.
      CREATE UNIQUE INDEX lead_activities_ref_uq ON lead_activities (lead_id, kind, ref_id) WHERE ref_id IS NOT NULL;
      -- "The same request repeated within minutes": looked up by its fingerprint and time.
      CREATE INDEX lead_activities_fingerprint ON lead_activities ((details->>'fingerprint'), occurred_at)
        WHERE kind = 'request';

      ALTER TABLE tasks ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
      CREATE INDEX tasks_open_due ON tasks (due_at) WHERE status = 'open';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX tasks_open_due;
      ALTER TABLE tasks DROP COLUMN updated_at;
      DROP TABLE lead_activities;
      DROP TABLE assignment_rules;
      DROP INDEX leads_manager_open;
      DROP INDEX leads_status_created;
      ALTER TABLE leads DROP COLUMN kind, DROP COLUMN form_id, DROP COLUMN form_name, DROP COLUMN message,
        DROP COLUMN consents, DROP COLUMN page_url, DROP COLUMN referrer, DROP COLUMN utm_term,
        DROP COLUMN utm_content, DROP COLUMN analytics_client_id, DROP COLUMN site_customer_id,
        DROP COLUMN status_reason, DROP COLUMN assignment_rule, DROP COLUMN first_contact_at, DROP COLUMN closed_at;
      ALTER TABLE leads DROP CONSTRAINT leads_status_check;
      ALTER TABLE leads ADD CONSTRAINT leads_status_check
        CHECK (status IN ('new', 'in_progress', 'converted', 'refused'));
      ALTER TABLE managers DROP COLUMN capacity, DROP COLUMN working_hours, DROP COLUMN time_zone,
        DROP COLUMN regions, DROP COLUMN sources;
    `);
  }
}
