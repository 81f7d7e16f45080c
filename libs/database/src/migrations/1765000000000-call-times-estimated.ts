import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `call_logs.times_estimated`: the start/answer times (and the wait between them) of a call known only from
 * its final message were derived (answer = end - talk), not seen; a real event replaces them.
 * `call_events_child_leg`: finds the call a child leg (an event naming its parent, e.g. Twilio ParentCallSid)
 * belongs to, for a recording callback that names only that leg. Partial, so other events cost nothing more.
 */
export class CallTimesEstimated1765000000000 implements MigrationInterface {
  name = 'CallTimesEstimated1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE call_logs ADD COLUMN times_estimated boolean NOT NULL DEFAULT false`);
    await q.query(
      `CREATE INDEX call_events_child_leg ON call_events (provider_call_id) WHERE payload ? 'parentCallId'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX call_events_child_leg`);
    await q.query(`ALTER TABLE call_logs DROP COLUMN times_estimated`);
  }
}
