import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbound webhooks (issue 16): a peer's endpoint (URL, its `whsec_` secret sealed under the keyring, the CRM
 * change types it wants, circuit-breaker and pause state) and one delivery row per (endpoint, change). apps/outbound
 * fans `crm_changes` out into deliveries and sends them; the console lists and replays them.
 */
export class OutboundWebhooks1765810000000 implements MigrationInterface {
  name = 'OutboundWebhooks1765810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbound_endpoints (
        peer_id text PRIMARY KEY REFERENCES peers(id) ON DELETE CASCADE,
        url text NOT NULL,
        secret text NOT NULL,
        event_types text[] NOT NULL,
        state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
        -- the first failure of the current run of failures; null once an attempt succeeds
        failing_since timestamptz,
        consecutive_failures int NOT NULL DEFAULT 0,
        breaker_open_until timestamptz,
        paused_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE outbound_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        peer_id text NOT NULL REFERENCES outbound_endpoints(peer_id) ON DELETE CASCADE,
        change_seq bigint NOT NULL,
        type text NOT NULL,
        aggregate_key text NOT NULL,
        -- what supersedes what: type + aggregate + the deal (two deals of one contact never supersede each other)
        supersede_key text NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'delivered', 'failed', 'superseded')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        lease_until timestamptz,
        first_attempt_at timestamptz,
        last_attempt_at timestamptz,
        last_http_status int,
        last_error_code text,
        delivered_at timestamptz,
        failed_at timestamptz,
        superseded_by uuid,
        created_at timestamptz NOT NULL,
        UNIQUE (peer_id, change_seq)
      );
      CREATE INDEX outbound_deliveries_due ON outbound_deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX outbound_deliveries_order ON outbound_deliveries (peer_id, aggregate_key, change_seq)
        WHERE status = 'pending';
      CREATE INDEX outbound_deliveries_supersede ON outbound_deliveries (peer_id, supersede_key)
        WHERE status = 'pending';
      CREATE INDEX outbound_deliveries_status ON outbound_deliveries (status, created_at DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbound_deliveries; DROP TABLE outbound_endpoints`);
  }
}
