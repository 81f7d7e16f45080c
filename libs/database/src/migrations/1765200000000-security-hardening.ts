import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 12 (security): URL credentials per peer (off by default), which credential a peer rotated from (a
 * retiring credential may only replace what it minted itself), claimed vs authenticated peer ids in the access
 * log (alerts on a peer count only what that peer really sent), and which peer attached each phone/email to a
 * contact (provenance; cross-peer attachments stay unverified).
 */
export class SecurityHardening1765200000000 implements MigrationInterface {
  name = 'SecurityHardening1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE peers ADD COLUMN allow_url_credentials boolean NOT NULL DEFAULT false;
      ALTER TABLE peer_credentials ADD COLUMN rotated_from text;
      CREATE INDEX peer_audit_action_at ON peer_audit (action, at DESC);

      -- peer_id: the authenticated peer only; claimed_peer_id: the id an unauthenticated request named.
      ALTER TABLE access_log ADD COLUMN claimed_peer_id text;
      CREATE INDEX access_log_by_claimed_peer ON access_log (claimed_peer_id, started_at DESC, id DESC)
        WHERE claimed_peer_id IS NOT NULL;
      -- Rows written before the split: an unauthenticated row's peer_id was only a claim.
      UPDATE access_log SET claimed_peer_id = peer_id, peer_id = NULL
       WHERE peer_id IS NOT NULL AND error_code IN ('AUTH_MISSING', 'AUTH_INVALID', 'AUTH_EXPIRED', 'AUTH_REVOKED',
             'AUTH_IP_DENIED', 'AUTH_SIGNATURE_INVALID', 'AUTH_REPLAYED', 'AUTH_LOCKED', 'AUTH_UNAVAILABLE');

      ALTER TABLE contact_identities ADD COLUMN peer_id text;
      ALTER TABLE contact_identities ADD COLUMN verified boolean NOT NULL DEFAULT true;
      ALTER TABLE contact_identities ADD COLUMN attached_at timestamptz NOT NULL DEFAULT now();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE contact_identities DROP COLUMN attached_at, DROP COLUMN verified, DROP COLUMN peer_id;
      UPDATE access_log SET peer_id = claimed_peer_id WHERE peer_id IS NULL AND claimed_peer_id IS NOT NULL;
      DROP INDEX access_log_by_claimed_peer;
      ALTER TABLE access_log DROP COLUMN claimed_peer_id;
      DROP INDEX peer_audit_action_at;
      ALTER TABLE peer_credentials DROP COLUMN rotated_from;
      ALTER TABLE peers DROP COLUMN allow_url_credentials;
    `);
  }
}
