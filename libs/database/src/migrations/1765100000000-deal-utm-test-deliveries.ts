import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Contract fields that were validated and then dropped now have columns: `utm.term`, `utm.content` and the
 * order's `test` mark (a provider's test notification, kept and shown but not a real sale). Peers say what to do
 * with test notifications: `mark` them (default) or `drop` them (answered 200, nothing published).
 */
export class DealUtmTestDeliveries1765100000000 implements MigrationInterface {
  name = 'DealUtmTestDeliveries1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE deals
        ADD COLUMN utm_term text,
        ADD COLUMN utm_content text,
        ADD COLUMN test boolean NOT NULL DEFAULT false;
      ALTER TABLE peers
        ADD COLUMN test_deliveries text NOT NULL DEFAULT 'mark' CHECK (test_deliveries IN ('mark', 'drop'));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE deals DROP COLUMN utm_term, DROP COLUMN utm_content, DROP COLUMN test;
      ALTER TABLE peers DROP COLUMN test_deliveries;
    `);
  }
}
