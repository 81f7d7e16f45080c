import { MigrationInterface, QueryRunner } from 'typeorm';

/** paid_at keeps the source version it came from, so it converges however versions arrive (invariant 4). */
export class DealPaidAtVersion1763900000000 implements MigrationInterface {
  name = 'DealPaidAtVersion1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deals ADD COLUMN paid_at_version timestamptz`);
    await q.query(`UPDATE deals SET paid_at_version = source_updated_at WHERE paid_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deals DROP COLUMN paid_at_version`);
  }
}
