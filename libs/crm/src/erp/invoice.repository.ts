import { returnedRows } from '../repositories/rows';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DealStatusChanges } from '../repositories/deal-status-changes';

export interface InvoiceParty {
  name?: string;
  taxId?: string;
  endpointId?: string;
  phone?: string;
  email?: string;
}

export interface InvoiceRecord {
  peerId: string;
  number: string;
  kind: 'invoice' | 'credit_note';
  status: 'issued' | 'paid' | 'cancelled';
  typeCode: string | null;
  issueDate: string;
  dueDate: string | null;
  paidAt: string | null;
  currency: string;
  buyerReference: string | null;
  orderReference: string | null;
  billingReference: string | null;
  seller: InvoiceParty;
  buyer: InvoiceParty;
  taxTotal: number;
  totalWithoutTax: number | null;
  total: number;
  version: number;
  eventId: string;
  lines: Array<{
    sku: string | null;
    productExternalId: string | null;
    name: string;
    quantity: number;
    unitCode: string | null;
    price: number;
    amount: number;
    taxPercent: number | null;
  }>;
}

export interface DealRef {
  id: string;
  contactId: string;
}

/** A deal id as `id::text` prints it (the only spelling that matched before it was compared as a uuid). */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Of two states with the same version, the later in an invoice's life wins (issued < paid < cancelled). */
const RANK = `CASE %s WHEN 'issued' THEN 0 WHEN 'paid' THEN 1 ELSE 2 END`;
const rank = (col: string) => RANK.replace('%s', col);

const UPSERT_INVOICE = `
WITH i AS (
  INSERT INTO invoices AS inv (peer_id, kind, number, status, type_code, issue_date, due_date, paid_at, currency,
                               buyer_reference, order_reference, billing_reference, seller, buyer, tax_total,
                               total_without_tax, total, deal_id, contact_id, version, last_event_id)
  VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8::timestamptz, $9, $10, $11, $12, $13::jsonb, $14::jsonb, $15,
          $16, $17, $18::uuid, $19::uuid, $20, $21::uuid)
  ON CONFLICT (peer_id, kind, number) DO UPDATE SET
    status = EXCLUDED.status, type_code = EXCLUDED.type_code, issue_date = EXCLUDED.issue_date,
    due_date = EXCLUDED.due_date, paid_at = COALESCE(EXCLUDED.paid_at, inv.paid_at), currency = EXCLUDED.currency,
    buyer_reference = EXCLUDED.buyer_reference, order_reference = EXCLUDED.order_reference,
    billing_reference = EXCLUDED.billing_reference, seller = EXCLUDED.seller, buyer = EXCLUDED.buyer,
    tax_total = EXCLUDED.tax_total, total_without_tax = EXCLUDED.total_without_tax, total = EXCLUDED.total,
    deal_id = COALESCE(EXCLUDED.deal_id, inv.deal_id), contact_id = COALESCE(EXCLUDED.contact_id, inv.contact_id),
    version = EXCLUDED.version, last_event_id = EXCLUDED.last_event_id, updated_at = now()
  WHERE (inv.version, ${rank('inv.status')}) < (EXCLUDED.version, ${rank('EXCLUDED.status')})
  RETURNING id, (xmax = 0) AS inserted, deal_id),
-- = ANY(ARRAY(...)), not IN (SELECT ...): the planner hash-joined a sequential scan of all lines for IN.
old_lines AS (DELETE FROM invoice_lines WHERE invoice_id = ANY (ARRAY(SELECT id FROM i WHERE NOT inserted))),
new_lines AS (
  INSERT INTO invoice_lines (invoice_id, position, sku, product_external_id, name, quantity, unit_code, price, amount,
                             tax_percent)
  SELECT i.id, t.pos, t.sku, t.pid, t.name, t.qty, t.unit, t.price, t.amount, t.tax
    FROM i, unnest($22::int[], $23::text[], $24::text[], $25::text[], $26::numeric[], $27::text[], $28::numeric[],
                   $29::numeric[], $30::numeric[]) AS t(pos, sku, pid, name, qty, unit, price, amount, tax))
SELECT id, inserted, deal_id FROM i`;

/** Invoices (with lines) and their effect on the deal; all SQL of the invoice aggregate. */
@Injectable()
export class InvoiceRepository {
  constructor(private readonly dealStatus: DealStatusChanges) {}

  /**
   * The deal an ERP document refers to: our deal id, or the site's order id (the newest deal with it when
   * several sites share one).
   */
  async findDeal(em: EntityManager, reference: string | null | undefined): Promise<DealRef | null> {
    if (!reference) return null;
    // Both sides on an index (deals_pkey, deals_external_id): \`id::text = $1\` could use neither, and the OR made
    // every invoice scan all deals.
    const ownId = CANONICAL_UUID.test(reference) ? reference : null;
    const rows: Array<{ id: string; contact_id: string }> = await em.query(
      `SELECT id, contact_id FROM deals WHERE id = $2::uuid OR external_id = $1
        ORDER BY (id = $2::uuid) IS TRUE DESC, created_at DESC LIMIT 1`,
      [reference, ownId],
    );
    return rows[0] ? { id: rows[0].id, contactId: rows[0].contact_id } : null;
  }

  /** A contact by the buyer's tax id (via its company), then by phone, then by email; null if none. */
  async findContact(
    em: EntityManager,
    by: { taxId?: string | null; phone?: string | null; email?: string | null },
  ): Promise<string | null> {
    const rows: Array<{ id: string }> = await em.query(
      `SELECT id FROM (
         SELECT c.id, 0 AS pref FROM contacts c JOIN companies co ON co.id = c.company_id
          WHERE $1::text IS NOT NULL AND co.tax_id = $1
         UNION ALL SELECT contact_id, 1 FROM contact_identities WHERE kind = 'phone' AND value = $2
         UNION ALL SELECT contact_id, 2 FROM contact_identities WHERE kind = 'email' AND value = $3) m
       ORDER BY pref LIMIT 1`,
      [by.taxId ?? null, by.phone ?? null, by.email ?? null],
    );
    return rows[0]?.id ?? null;
  }

  /** Writes the invoice if its state is newer; returns null when stale. */
  async upsert(
    em: EntityManager,
    inv: InvoiceRecord,
    dealId: string | null,
    contactId: string | null,
  ): Promise<{ id: string; inserted: boolean; dealId: string | null } | null> {
    const rows: Array<{ id: string; inserted: boolean; deal_id: string | null }> = await em.query(
      UPSERT_INVOICE,
      [
        inv.peerId,
        inv.kind,
        inv.number,
        inv.status,
        inv.typeCode,
        inv.issueDate,
        inv.dueDate,
        inv.paidAt,
        inv.currency,
        inv.buyerReference,
        inv.orderReference,
        inv.billingReference,
        JSON.stringify(inv.seller),
        JSON.stringify(inv.buyer),
        inv.taxTotal,
        inv.totalWithoutTax,
        inv.total,
        dealId,
        contactId,
        inv.version,
        inv.eventId,
        inv.lines.map((_, i) => i + 1),
        inv.lines.map((l) => l.sku),
        inv.lines.map((l) => l.productExternalId),
        inv.lines.map((l) => l.name),
        inv.lines.map((l) => l.quantity),
        inv.lines.map((l) => l.unitCode),
        inv.lines.map((l) => l.price),
        inv.lines.map((l) => l.amount),
        inv.lines.map((l) => l.taxPercent),
      ],
    );
    return rows[0] ? { id: rows[0].id, inserted: rows[0].inserted, dealId: rows[0].deal_id } : null;
  }

  /**
   * A paid invoice marks its deal paid (the first payment date stays; a shipped deal keeps its status). A status
   * change is announced (crm.deal.status_changed) in the same transaction. Returns the deal's contact (whose
   * loyalty spend the payment changes), null when there is no such deal.
   */
  async markDealPaid(
    em: EntityManager,
    dealId: string,
    paidAt: string | null,
    occurredAt?: string | null,
  ): Promise<string | null> {
    const rows = returnedRows<{ previous_status: string; contact_id: string }>(
      await em.query(
        `WITH prev AS (SELECT id, status FROM deals WHERE id = $1 FOR UPDATE)
         UPDATE deals d SET paid_at = COALESCE(d.paid_at, $2::timestamptz, now()),
                status = CASE WHEN d.status IN ('new', 'pending', 'processing', 'on_hold', 'failed') THEN 'paid'
                              ELSE d.status END,
                updated_at = now()
           FROM prev WHERE d.id = prev.id
         RETURNING prev.status AS previous_status, d.contact_id`,
        [dealId, paidAt],
      ),
    );
    if (!rows[0]) return null;
    await this.dealStatus.record(em, [{ dealId, previousStatus: rows[0].previous_status, occurredAt }]);
    return rows[0].contact_id;
  }

  /**
   * The ERP's state of a site order (1C `sale&mode=file`): newer versions only. Returns false when the deal
   * already holds a newer or equal ERP version.
   */
  async applyOrderStatus(
    em: EntityManager,
    dealId: string,
    s: {
      status: string;
      erpNumber: string | null;
      paidAt: string | null;
      shippedAt: string | null;
      version: number;
      /** When the ERP changed it (the event's occurredAt). */
      occurredAt?: string | null;
    },
  ): Promise<boolean> {
    const rows = returnedRows<{ previous_status: string }>(
      await em.query(
        `WITH prev AS (SELECT id, status FROM deals WHERE id = $1 FOR UPDATE)
         UPDATE deals d SET status = $2, erp_number = COALESCE($3, d.erp_number),
                paid_at = COALESCE(d.paid_at, $4::timestamptz, CASE WHEN $2 = 'paid' THEN now() END),
                shipped_at = COALESCE($5::timestamptz, d.shipped_at), erp_status_version = $6, updated_at = now()
           FROM prev WHERE d.id = prev.id AND COALESCE(d.erp_status_version, -1) < $6
         RETURNING prev.status AS previous_status`,
        [dealId, s.status, s.erpNumber, s.paidAt, s.shippedAt, s.version],
      ),
    );
    if (rows[0]) {
      await this.dealStatus.record(em, [
        { dealId, previousStatus: rows[0].previous_status, occurredAt: s.occurredAt },
      ]);
    }
    return rows.length > 0;
  }
}
