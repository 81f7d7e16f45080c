import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Peers, their issued credentials (only keyed hashes) and the audit trail of every change. A trigger
 * notifies `switchboard_peers` on any write, so gateways refresh their in-memory directory at once
 * (revocation takes effect immediately) whoever made the change: console, CLI or plain SQL.
 */
export class Peers1764000000000 implements MigrationInterface {
  name = 'Peers1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE peers (
        id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('website', 'telephony', 'erp', 'crm')),
        provider text NOT NULL DEFAULT 'generic',
        scopes text[] NOT NULL DEFAULT '{}',
        ip_allowlist cidr[] NOT NULL DEFAULT '{}',
        rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        -- sb1.<keyId>... token (libs/secrets): the provider's webhook secret, reversibly encrypted.
        signing_secret text,
        timezone text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE peer_credentials (
        id text PRIMARY KEY,
        peer_id text NOT NULL REFERENCES peers(id) ON DELETE CASCADE,
        -- hex HMAC-SHA256(pepper, secret); the pepper is never in the database.
        secret_hash text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        retires_at timestamptz,
        revoked_at timestamptz,
        expiring_notified_at timestamptz,
        created_by text NOT NULL
      );
      CREATE INDEX peer_credentials_peer_idx ON peer_credentials (peer_id);

      CREATE TABLE peer_audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        peer_id text,
        credential_id text,
        details jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX peer_audit_peer_idx ON peer_audit (peer_id, at DESC);

      CREATE FUNCTION notify_peer_change() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        changed record := COALESCE(NEW, OLD);
      BEGIN
        -- Fields are resolved at run time, so each table's own column is read in its own branch.
        IF TG_TABLE_NAME = 'peers' THEN
          PERFORM pg_notify('switchboard_peers', changed.id);
        ELSE
          PERFORM pg_notify('switchboard_peers', changed.peer_id);
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER peers_notify AFTER INSERT OR UPDATE OR DELETE ON peers
        FOR EACH ROW EXECUTE FUNCTION notify_peer_change();
      CREATE TRIGGER peer_credentials_notify AFTER INSERT OR UPDATE OR DELETE ON peer_credentials
        FOR EACH ROW EXECUTE FUNCTION notify_peer_change();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE peer_audit;
      DROP TABLE peer_credentials;
      DROP TABLE peers;
      DROP FUNCTION notify_peer_change();
    `);
  }
}
