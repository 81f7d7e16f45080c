import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * RFC 6238 §5.2: a TOTP code is accepted once. Each operator keeps the time step of the last code that signed
 * them in; a code of that step or an earlier one (a shoulder-surfed or phished code replayed within its
 * 30-90 s of validity) is refused.
 */
export class OperatorTotpStep1765310000000 implements MigrationInterface {
  name = 'OperatorTotpStep1765310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operators ADD COLUMN totp_last_step bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operators DROP COLUMN totp_last_step`);
  }
}
