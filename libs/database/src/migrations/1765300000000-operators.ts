import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operator accounts (issue 17): personal sign-in with argon2id password hashes, the last passwords (reuse is
 * refused), TOTP secrets (sealed under the master keyring), hashed recovery and reset codes, cookie sessions
 * and personal API tokens (stored as peppered HMACs, like peer credentials). A `manager` operator is linked to
 * the `managers` row whose leads, contacts, deals, calls and tasks it may see. The access log gets the id of the
 * operator behind each console call.
 */
export class Operators1765300000000 implements MigrationInterface {
  name = 'Operators1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE operators (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL UNIQUE CHECK (email = lower(email)),
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'manager', 'auditor')),
        manager_id uuid REFERENCES managers (id),
        password_hash text NOT NULL,
        password_changed_at timestamptz NOT NULL DEFAULT now(),
        must_change_password boolean NOT NULL DEFAULT false,
        totp_secret text,
        totp_pending_secret text,
        totp_enabled_at timestamptz,
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (role <> 'manager' OR manager_id IS NOT NULL)
      );
      CREATE TABLE operator_password_history (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        operator_id uuid NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX operator_password_history_by_operator ON operator_password_history (operator_id, id DESC);
      CREATE TABLE operator_recovery_codes (
        operator_id uuid NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
        code_hash text NOT NULL,
        used_at timestamptz,
        PRIMARY KEY (operator_id, code_hash)
      );
      CREATE TABLE operator_reset_codes (
        operator_id uuid NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
        code_hash text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (operator_id, code_hash)
      );
      -- id: HMAC of the cookie value (the cookie itself is never stored)
      CREATE TABLE operator_sessions (
        id text PRIMARY KEY,
        operator_id uuid NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        client_ip inet,
        user_agent text
      );
      CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id, created_at DESC);
      CREATE TABLE operator_tokens (
        id text PRIMARY KEY,
        operator_id uuid NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
        name text NOT NULL,
        secret_hash text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      CREATE INDEX operator_tokens_by_operator ON operator_tokens (operator_id, created_at DESC);
      ALTER TABLE access_log ADD COLUMN operator_id text;
      CREATE INDEX access_log_by_operator ON access_log (operator_id, started_at DESC, id DESC)
        WHERE operator_id IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX access_log_by_operator;
      ALTER TABLE access_log DROP COLUMN operator_id;
      DROP TABLE operator_tokens, operator_sessions, operator_reset_codes, operator_recovery_codes,
        operator_password_history, operators;
    `);
  }
}
