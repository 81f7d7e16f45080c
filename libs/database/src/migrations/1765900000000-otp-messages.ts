import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One-time codes and customer messages (issue 16 parts 4 and 5). `otp_codes` keeps only a keyed hash of each
 * code (HMAC under the pepper, which never enters the database). `message_deliveries` is one row per message
 * to a customer (a code, or an order-status notice): the WhatsApp attempt, the SMS fallback and their provider
 * statuses. A code waits there sealed under the keyring (libs/secrets) only until no channel needs it any more,
 * then the column is wiped. `message_provider_credentials` holds each provider's credentials sealed.
 */
export class OtpMessages1765900000000 implements MigrationInterface {
  name = 'OtpMessages1765900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE otp_codes (
        id uuid PRIMARY KEY,
        peer_id text NOT NULL,
        phone text NOT NULL,
        purpose text NOT NULL CHECK (purpose IN ('login', 'delivery', 'confirm')),
        deal_id uuid,
        code_hash text NOT NULL,
        client_ip text,
        state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'verified', 'locked')),
        attempts int NOT NULL DEFAULT 0,
        max_attempts int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        CONSTRAINT otp_codes_delivery_deal CHECK (purpose <> 'delivery' OR deal_id IS NOT NULL)
      );
      -- rate limits count recent codes per phone, per peer and per client address
      CREATE INDEX otp_codes_phone ON otp_codes (phone, created_at);
      CREATE INDEX otp_codes_peer ON otp_codes (peer_id, created_at);
      CREATE INDEX otp_codes_ip ON otp_codes (client_ip, created_at);

      CREATE TABLE message_deliveries (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('otp', 'order_status')),
        otp_id uuid UNIQUE REFERENCES otp_codes(id) ON DELETE CASCADE,
        -- the crm_changes row an order-status message answers: at most one message per change
        change_seq bigint UNIQUE,
        deal_id uuid,
        phone text NOT NULL,
        template text NOT NULL,
        language text NOT NULL,
        params jsonb NOT NULL DEFAULT '[]',
        sms_text text,
        sealed_code text,
        state text NOT NULL CHECK (state IN ('pending', 'whatsapp_sent', 'sms_pending', 'sms_sent',
                                             'delivered', 'failed', 'cancelled')),
        channel text CHECK (channel IN ('whatsapp', 'sms')),
        whatsapp_message_id text UNIQUE,
        whatsapp_status text,
        whatsapp_error text,
        sms_id text UNIQUE,
        sms_status text,
        sms_error text,
        attempts int NOT NULL DEFAULT 0,
        fallback_at timestamptz,
        give_up_at timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT message_deliveries_one_source CHECK ((otp_id IS NULL) <> (change_seq IS NULL))
      );
      CREATE INDEX message_deliveries_due ON message_deliveries (next_attempt_at)
        WHERE state IN ('pending', 'whatsapp_sent', 'sms_pending');
      CREATE INDEX message_deliveries_sealed ON message_deliveries (give_up_at) WHERE sealed_code IS NOT NULL;

      CREATE TABLE message_provider_credentials (
        provider text PRIMARY KEY CHECK (provider IN ('whatsapp', 'smsru')),
        sealed text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE message_provider_credentials; DROP TABLE message_deliveries; DROP TABLE otp_codes`,
    );
  }
}
