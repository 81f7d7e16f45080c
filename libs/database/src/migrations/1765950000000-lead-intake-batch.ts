import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Batch lead intake (issue 14) looks up, for every contact a batch of requests matches, the contact's open lead
 * (`converted_contact_id`): an index for it, so the lookup does not scan all leads.
 */
export class LeadIntakeBatch1765950000000 implements MigrationInterface {
  name = 'LeadIntakeBatch1765950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX leads_open_by_contact ON leads (converted_contact_id, created_at)
        WHERE converted_contact_id IS NOT NULL AND status IN ('new', 'in_progress');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX leads_open_by_contact`);
  }
}
