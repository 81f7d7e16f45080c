import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

export interface ManualDeal {
  contactId: string;
  title: string;
  amount: string;
  currency: string;
  responsibleManagerId: string | null;
  /** The lead it comes from: the deal's external id in the CRM's own namespace, so converting twice makes one. */
  leadId: string;
}

/** Deals made in the CRM itself (a converted lead); site orders are upserted set-based by the website connector. */
@Injectable()
export class DealsRepository {
  async createFromLead(em: EntityManager, d: ManualDeal): Promise<{ id: string }> {
    const rows: Array<{ id: string }> = await em.query(
      `INSERT INTO deals (peer_id, external_id, contact_id, title, status, amount, currency, source_created_at,
                          source_updated_at, responsible_manager_id, last_event_id)
       VALUES ('crm', 'lead:' || $1, $2, $3, 'new', $4, $5, now(), now(), $6, gen_random_uuid())
       ON CONFLICT (peer_id, external_id) DO UPDATE SET updated_at = deals.updated_at
       RETURNING id`,
      [d.leadId, d.contactId, d.title, d.amount, d.currency, d.responsibleManagerId],
    );
    return rows[0];
  }

  /** The newest deal of a contact (the order that converted its lead). */
  async latestForContact(
    em: EntityManager,
    contactId: string,
  ): Promise<{ id: string; amount: string } | null> {
    const rows: Array<{ id: string; amount: string }> = await em.query(
      `SELECT id, amount FROM deals WHERE contact_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1`,
      [contactId],
    );
    return rows[0] ?? null;
  }
}
