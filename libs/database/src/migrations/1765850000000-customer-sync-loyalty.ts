import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16 parts 2 and 3. Personal account sync: the fields a site account carries (birthday, address,
 * consents) and the link of each site account to its card, with the account's version so that an older
 * revision never overwrites a newer one. Loyalty: the spend, tier and manual discount behind the card's
 * effective `discount` (which already exists) and where it comes from.
 */
export class CustomerSyncLoyalty1765850000000 implements MigrationInterface {
  name = 'CustomerSyncLoyalty1765850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE contacts
        ADD COLUMN birthday date,
        ADD COLUMN address jsonb,
        ADD COLUMN consents jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN discount_source text CHECK (discount_source IN ('tier', 'manual')),
        ADD COLUMN discount_changed_at timestamptz,
        ADD COLUMN loyalty_spend numeric(18,4) NOT NULL DEFAULT 0,
        ADD COLUMN loyalty_tier text,
        ADD COLUMN loyalty_computed_at timestamptz,
        ADD COLUMN manual_discount numeric(5,2),
        ADD COLUMN manual_discount_expires_at timestamptz,
        ADD COLUMN manual_discount_set_by text;

      -- One row per (site, account): the site's id of the customer and the last revision applied to the card.
      -- verified = false when the account was linked through another peer's phone/email (see ContactsRepository):
      -- identities it brings are then held unverified too.
      CREATE TABLE contact_site_accounts (
        peer_id text NOT NULL,
        site_customer_id text NOT NULL,
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        version bigint NOT NULL,
        verified boolean NOT NULL DEFAULT true,
        linked_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (peer_id, site_customer_id)
      );
      CREATE INDEX contact_site_accounts_contact ON contact_site_accounts (contact_id);

      -- The loyalty spend reads a contact's paid deals of the window.
      CREATE INDEX deals_contact_paid ON deals (contact_id, paid_at) WHERE paid_at IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX deals_contact_paid;
      DROP TABLE contact_site_accounts;
      ALTER TABLE contacts
        DROP COLUMN birthday, DROP COLUMN address, DROP COLUMN consents, DROP COLUMN discount_source,
        DROP COLUMN discount_changed_at, DROP COLUMN loyalty_spend, DROP COLUMN loyalty_tier,
        DROP COLUMN loyalty_computed_at, DROP COLUMN manual_discount, DROP COLUMN manual_discount_expires_at,
        DROP COLUMN manual_discount_set_by;
    `);
  }
}
