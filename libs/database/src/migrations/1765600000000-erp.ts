import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ERP: products, prices and stock keyed by the ERP's own ids (a price or stock row may arrive before its
 * product, so they reference the product by (peer, external id), not by a foreign key); invoices and lines;
 * the deal's ERP state; and the 1C exchange's sessions, uploads (chunks in PostgreSQL so any gateway replica
 * can continue an upload, and it survives restarts), imports and order exports.
 */
export class Erp1765600000000 implements MigrationInterface {
  name = 'Erp1765600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE products (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        peer_id text NOT NULL,
        external_id text NOT NULL,
        sku text,
        name text NOT NULL,
        group_path text[] NOT NULL DEFAULT '{}',
        unit text,
        barcode text,
        properties jsonb NOT NULL DEFAULT '[]',
        active boolean NOT NULL DEFAULT true,
        version bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT products_peer_external_uq UNIQUE (peer_id, external_id)
      );
      CREATE INDEX products_sku ON products (sku);
      CREATE INDEX products_external_id ON products (external_id);

      CREATE TABLE product_prices (
        peer_id text NOT NULL,
        product_external_id text NOT NULL,
        price_type text NOT NULL,
        price_type_name text,
        currency char(3) NOT NULL,
        value numeric(18,4) NOT NULL,
        unit text,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (peer_id, product_external_id, price_type)
      );

      CREATE TABLE product_stock (
        peer_id text NOT NULL,
        product_external_id text NOT NULL,
        total numeric(18,3) NOT NULL,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (peer_id, product_external_id)
      );

      CREATE TABLE stock_levels (
        peer_id text NOT NULL,
        product_external_id text NOT NULL,
        warehouse_id text NOT NULL,
        warehouse_name text,
        quantity numeric(18,3) NOT NULL,
        PRIMARY KEY (peer_id, product_external_id, warehouse_id)
      );

      CREATE TABLE invoices (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        peer_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
        number text NOT NULL,
        status text NOT NULL CHECK (status IN ('issued', 'paid', 'cancelled')),
        type_code text,
        issue_date date NOT NULL,
        due_date date,
        paid_at timestamptz,
        currency char(3) NOT NULL,
        buyer_reference text,
        order_reference text,
        billing_reference text,
        seller jsonb NOT NULL,
        buyer jsonb NOT NULL,
        tax_total numeric(18,4) NOT NULL,
        total_without_tax numeric(18,4),
        total numeric(18,4) NOT NULL,
        deal_id uuid REFERENCES deals(id) ON DELETE SET NULL,
        contact_id uuid REFERENCES contacts(id) ON DELETE SET NULL,
        version bigint NOT NULL,
        last_event_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT invoices_peer_kind_number_uq UNIQUE (peer_id, kind, number)
      );
      CREATE INDEX invoices_deal ON invoices (deal_id);
      CREATE INDEX invoices_contact ON invoices (contact_id);

      CREATE TABLE invoice_lines (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        invoice_id uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
        position int NOT NULL,
        sku text,
        product_external_id text,
        name text NOT NULL,
        quantity numeric(18,4) NOT NULL,
        unit_code text,
        price numeric(18,4) NOT NULL,
        amount numeric(18,4) NOT NULL,
        tax_percent numeric(7,4)
      );
      CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id);

      ALTER TABLE deals
        ADD COLUMN erp_number text,
        ADD COLUMN erp_status_version bigint,
        ADD COLUMN shipped_at timestamptz;

      CREATE TABLE erp_exchange_sessions (
        -- SHA-256 of the cookie value: the cookie itself is never stored.
        id_hash text PRIMARY KEY,
        peer_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX erp_exchange_sessions_expiry ON erp_exchange_sessions (expires_at);

      CREATE TABLE erp_uploads (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_hash text NOT NULL REFERENCES erp_exchange_sessions(id_hash) ON DELETE CASCADE,
        peer_id text NOT NULL,
        filename text NOT NULL,
        bytes bigint NOT NULL DEFAULT 0,
        chunks int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT erp_uploads_session_file_uq UNIQUE (session_hash, filename)
      );

      CREATE TABLE erp_upload_chunks (
        upload_id bigint NOT NULL REFERENCES erp_uploads(id) ON DELETE CASCADE,
        seq int NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (upload_id, seq)
      );

      CREATE TABLE erp_imports (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_hash text NOT NULL REFERENCES erp_exchange_sessions(id_hash) ON DELETE CASCADE,
        peer_id text NOT NULL,
        filename text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
        -- The version every event of this import carries: epoch microseconds when the import began.
        version bigint NOT NULL,
        lease_until timestamptz,
        processed int NOT NULL DEFAULT 0,
        events int NOT NULL DEFAULT 0,
        failure text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT erp_imports_session_file_uq UNIQUE (session_hash, filename)
      );

      CREATE TABLE erp_order_exports (
        peer_id text NOT NULL,
        deal_id uuid NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
        sent_at timestamptz NOT NULL,
        confirmed_at timestamptz,
        PRIMARY KEY (peer_id, deal_id)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE erp_order_exports, erp_imports, erp_upload_chunks, erp_uploads, erp_exchange_sessions,
        invoice_lines, invoices, stock_levels, product_stock, product_prices, products;
      ALTER TABLE deals DROP COLUMN erp_number, DROP COLUMN erp_status_version, DROP COLUMN shipped_at;
    `);
  }
}
