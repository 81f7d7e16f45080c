import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `call_logs.times_estimated`: the start/answer times (and the wait between them) of a call known only from
 * its final message were derived (answer = end - talk), not seen; a real event replaces them.
 */
export class CallTimesEstimated1765000000000 implements MigrationInterface {
  name = 'CallTimesEstimated1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE call_logs ADD COLUMN times_estimated boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE call_logs DROP COLUMN times_estimated`);
  }
}
