import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { contactKey, CrmChange, CrmChangesRepository } from './changes.repository';

/** A deal's status before a write; the write's effect is read back in the same transaction. */
export interface DealStatusTransition {
  dealId: string;
  previousStatus: string | null;
  /** When the change happened at its source (the event's occurredAt); now when unknown. */
  occurredAt?: Date | string | null;
}

/**
 * Announces `crm.deal.status_changed` for every deal whose status a write changed, through the CRM outbox in the
 * writer's transaction. Every place that changes a deal's status calls this after its UPDATE, so no path is
 * silent and an unchanged status announces nothing.
 */
@Injectable()
export class DealStatusChanges {
  constructor(private readonly changes: CrmChangesRepository) {}

  async record(em: EntityManager, transitions: readonly DealStatusTransition[]): Promise<number> {
    if (transitions.length === 0) return 0;
    const rows: Array<{
      id: string;
      status: string;
      external_id: string;
      peer_id: string;
      contact_id: string | null;
      site_customer_id: string | null;
    }> = await em.query(
      `SELECT d.id, d.status, d.external_id, d.peer_id, d.contact_id, c.site_customer_id
         FROM deals d LEFT JOIN contacts c ON c.id = d.contact_id WHERE d.id = ANY ($1::uuid[])`,
      [transitions.map((t) => t.dealId)],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const changes: CrmChange[] = [];
    for (const t of transitions) {
      const d = byId.get(t.dealId);
      if (!d || d.status === t.previousStatus) continue;
      const occurredAt = t.occurredAt ? new Date(t.occurredAt) : new Date();
      changes.push({
        type: 'crm.deal.status_changed',
        aggregateKey: d.contact_id ? contactKey(d.contact_id) : `deal:${d.id}`,
        contactId: d.contact_id,
        dealId: d.id,
        payload: {
          dealId: d.id,
          // The site's own order id when the deal came from a site (peer_id is then that site).
          siteOrderId: d.peer_id === 'crm' ? null : d.external_id,
          externalId: d.external_id,
          sourcePeerId: d.peer_id,
          status: d.status,
          previousStatus: t.previousStatus,
          contactId: d.contact_id,
          siteCustomerId: d.site_customer_id,
          occurredAt: occurredAt.toISOString(),
        },
        occurredAt,
      });
    }
    await this.changes.record(em, changes);
    return changes.length;
  }
}
