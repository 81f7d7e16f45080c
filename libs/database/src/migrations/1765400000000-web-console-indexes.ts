import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the web console's pages (issue 17, measured with 100,000 contacts and 1,000,000 calls in
 * test/bench/console-pages.mjs):
 * - processed_events by processed_at: the dashboard's "processed per minute" reads the last half hour of a
 *   table that holds every event ever processed (a sequential scan grows with history);
 * - leads by converted_contact_id: the contact card lists the leads converted into the contact;
 * - open tasks by contact: the contact card lists the contact's open tasks.
 */
export class WebConsoleIndexes1765400000000 implements MigrationInterface {
  name = 'WebConsoleIndexes1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX processed_events_processed_at ON processed_events (processed_at);
      CREATE INDEX leads_converted_contact ON leads (converted_contact_id) WHERE converted_contact_id IS NOT NULL;
      CREATE INDEX tasks_open_by_contact ON tasks (contact_id) WHERE status = 'open';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX tasks_open_by_contact;
      DROP INDEX leads_converted_contact;
      DROP INDEX processed_events_processed_at;
    `);
  }
}
