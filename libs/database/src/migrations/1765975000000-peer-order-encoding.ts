import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A 1C peer's encoding of `sale&mode=query` (the site's orders as CommerceML) is a peer setting: `windows-1251`
 * or `utf-8`; NULL means the configured default (ERP_ORDER_ENCODINGS, then ERP_DEFAULT_ORDER_ENCODING).
 */
export class PeerOrderEncoding1765975000000 implements MigrationInterface {
  name = 'PeerOrderEncoding1765975000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE peers
        ADD COLUMN order_encoding text CHECK (order_encoding IN ('windows-1251', 'utf-8'));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE peers DROP COLUMN order_encoding;`);
  }
}
