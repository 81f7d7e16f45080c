import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialCrm1763800000000 implements MigrationInterface {
  name = 'InitialCrm1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE managers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        email text,
        extension text,
        queues text[] NOT NULL DEFAULT '{}',
        product_groups text[] NOT NULL DEFAULT '{}',
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX managers_extension_uq ON managers (extension) WHERE extension IS NOT NULL;
      -- round-robin assignment cursor
      CREATE SEQUENCE manager_assignment_seq;

      CREATE TABLE companies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        tax_id text,
        phones text[] NOT NULL DEFAULT '{}',
        emails text[] NOT NULL DEFAULT '{}',
        responsible_manager_id uuid REFERENCES managers(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text,
        company_id uuid REFERENCES companies(id),
        phones text[] NOT NULL DEFAULT '{}',
        emails text[] NOT NULL DEFAULT '{}',
        responsible_manager_id uuid REFERENCES managers(id),
        source text,
        site_customer_id text,
        discount numeric(5,2),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX contacts_phones_gin ON contacts USING gin (phones);
      CREATE INDEX contacts_emails_gin ON contacts USING gin (emails);

      CREATE TABLE contact_identities (
        kind text NOT NULL CHECK (kind IN ('phone', 'email')),
        value text NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        PRIMARY KEY (kind, value)
      );
      CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

      CREATE TABLE leads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text,
        phone text,
        email text,
        source_channel text NOT NULL,
        utm_source text,
        utm_medium text,
        utm_campaign text,
        status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'converted', 'refused')),
        refuse_reason text,
        converted_contact_id uuid REFERENCES contacts(id),
        converted_deal_id uuid,
        responsible_manager_id uuid REFERENCES managers(id),
        peer_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX leads_phone ON leads (phone);
      CREATE INDEX leads_email ON leads (email);

      CREATE TABLE deals (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        peer_id text NOT NULL,
        external_id text NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts(id),
        title text NOT NULL,
        status text NOT NULL,
        amount numeric(18,4) NOT NULL,
        currency char(3) NOT NULL,
        delivery_address text,
        utm_source text,
        utm_medium text,
        utm_campaign text,
        source_created_at timestamptz NOT NULL,
        source_updated_at timestamptz NOT NULL,
        paid_at timestamptz,
        responsible_manager_id uuid REFERENCES managers(id),
        last_event_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT deals_peer_external_uq UNIQUE (peer_id, external_id)
      );
      CREATE INDEX deals_contact ON deals (contact_id);
      CREATE INDEX deals_external_id ON deals (external_id);

      CREATE TABLE deal_items (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        deal_id uuid NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
        position int NOT NULL,
        sku text NOT NULL,
        name text NOT NULL,
        quantity int NOT NULL,
        price numeric(18,4) NOT NULL
      );
      CREATE INDEX deal_items_deal ON deal_items (deal_id);

      CREATE TABLE tasks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('call_back', 'call_lead', 'follow_up')),
        title text NOT NULL,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
        due_at timestamptz,
        responsible_manager_id uuid REFERENCES managers(id),
        contact_id uuid REFERENCES contacts(id),
        lead_id uuid REFERENCES leads(id),
        deal_id uuid REFERENCES deals(id),
        result text,
        created_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz
      );
      CREATE INDEX tasks_open_by_manager ON tasks (responsible_manager_id) WHERE status = 'open';

      CREATE TABLE processed_events (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        peer_id text NOT NULL,
        idempotency_key text NOT NULL,
        event_type text NOT NULL,
        trace_id text,
        outcome text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id),
        CONSTRAINT processed_events_idempotency_uq UNIQUE (consumer, peer_id, idempotency_key)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE processed_events, tasks, deal_items, deals, leads, contact_identities, contacts, companies, managers;
      DROP SEQUENCE manager_assignment_seq;
    `);
  }
}
