import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The CRM's transactional outbox (issue 16): every change a peer may want to hear about (a deal's status, a
 * contact's fields, a contact's discount) is written here in the same transaction as the change itself, so a
 * committed change is never lost and an aborted one is never announced. apps/outbound reads it in `seq` order
 * and fans each row out to the endpoints that subscribe to its type.
 */
export class CrmChanges1765800000000 implements MigrationInterface {
  name = 'CrmChanges1765800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE crm_changes (
        seq bigserial PRIMARY KEY,
        type text NOT NULL,
        aggregate_key text NOT NULL,
        contact_id uuid,
        deal_id uuid,
        payload jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX crm_changes_aggregate ON crm_changes (aggregate_key, seq);
      -- how far each reader of crm_changes has got (outbound webhooks, order-status messages, ...)
      CREATE TABLE crm_change_cursors (
        consumer text PRIMARY KEY,
        seq bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE crm_change_cursors; DROP TABLE crm_changes`);
  }
}
