import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  DomainError,
  ErrorCode,
  EventEnvelope,
  OrderSubmittedV1,
  validateContract,
} from '@switchboard/contracts';
import { ContactCandidate, ContactService, normalizeEmail, normalizePhone } from '@switchboard/crm';
import { BatchingInbox } from '@switchboard/database';
import { EntityManager } from 'typeorm';
import { FaultInjector } from './fault-injector';

export const CONSUMER = 'website-connector';

export type OrderOutcome = 'created' | 'updated' | 'stale' | 'duplicate';

/**
 * website.order.submitted -> contact (found or created) + deal keyed by (peer, externalId). The deal keeps the
 * source's version (updatedAt): a newer version replaces it, an older or equal one changes nothing, so
 * out-of-order and repeated deliveries converge on the same state.
 */
@Injectable()
export class OrderProjector {
  private readonly logger = new Logger('OrderProjector');

  constructor(
    private readonly inbox: BatchingInbox,
    private readonly contacts: ContactService,
    private readonly config: AppConfig,
    private readonly faults: FaultInjector,
  ) {}

  async apply(envelope: EventEnvelope): Promise<OrderOutcome> {
    // Re-validate: the broker accepts anything, and a bad payload must dead-letter, not half-apply.
    const order = validateContract(OrderSubmittedV1, envelope.payload);
    const customer = {
      name: order.customer.name,
      phone: normalizePhone(order.customer.phone, this.config.crm.defaultRegion),
      email: normalizeEmail(order.customer.email),
      source: `website:${envelope.peerId}`,
    };
    if (!customer.phone && !customer.email) {
      // The contract saw a phone string, but it is no phone number: a card keyed by nothing would be a
      // duplicate factory, so dead-letter the order visibly instead of guessing.
      throw new UnmatchableCustomer(order.externalId);
    }
    const outcome = await this.inbox.submit(CONSUMER, {
      envelope,
      // The order's own key too: two versions of one order in concurrent batches then queue, not deadlock.
      lockKeys: [...this.contacts.lockKeys(customer), `order:${envelope.peerId}:${order.externalId}`],
      effects: async (em) => {
        // Inside the transaction, so a failing order also exercises batch isolation.
        this.faults.maybeFail(order.externalId);
        return { outcome: await this.project(em, envelope, order, customer) };
      },
    });
    const result: OrderOutcome = outcome.duplicate ? 'duplicate' : outcome.result.outcome;
    this.logger.debug(`order ${order.externalId}: ${result}`);
    return result;
  }

  private async project(
    em: EntityManager,
    envelope: EventEnvelope,
    order: OrderSubmittedV1,
    customer: ContactCandidate,
  ): Promise<OrderOutcome> {
    const contact = await this.contacts.findOrCreate(em, customer);

    const version = order.updatedAt ?? order.createdAt;
    // Upsert the deal and replace its items in one statement. The DELETE runs on the statement's snapshot, so
    // it removes only the previous version's items, never the ones inserted beside it.
    const rows: Array<{ id: string; inserted: boolean }> = await em.query(
      `WITH d AS (
         INSERT INTO deals (peer_id, external_id, contact_id, title, status, amount, currency, delivery_address,
                            utm_source, utm_medium, utm_campaign, source_created_at, source_updated_at, paid_at,
                            paid_at_version, responsible_manager_id, last_event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::timestamptz,
                 CASE WHEN $14::timestamptz IS NOT NULL THEN $13::timestamptz END, $15, $16)
         ON CONFLICT (peer_id, external_id) DO UPDATE SET
           status = EXCLUDED.status, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
           delivery_address = EXCLUDED.delivery_address, utm_source = EXCLUDED.utm_source,
           utm_medium = EXCLUDED.utm_medium, utm_campaign = EXCLUDED.utm_campaign,
           source_updated_at = EXCLUDED.source_updated_at,
           paid_at = COALESCE(EXCLUDED.paid_at, deals.paid_at),
           paid_at_version = COALESCE(EXCLUDED.paid_at_version, deals.paid_at_version),
           last_event_id = EXCLUDED.last_event_id, updated_at = now()
         WHERE deals.source_updated_at < EXCLUDED.source_updated_at
         RETURNING id, (xmax = 0) AS inserted),
       old_items AS (DELETE FROM deal_items WHERE deal_id IN (SELECT id FROM d WHERE NOT inserted)),
       new_items AS (
         INSERT INTO deal_items (deal_id, position, sku, name, quantity, price)
         SELECT d.id, t.pos, t.sku, t.name, t.qty, t.price
           FROM d, unnest($17::int[], $18::text[], $19::text[], $20::int[], $21::numeric[]) AS t(pos, sku, name, qty, price))
       SELECT id, inserted FROM d`,
      [
        envelope.peerId,
        order.externalId,
        contact.id,
        `Order ${order.externalId}`,
        order.status,
        order.total,
        order.currency,
        order.deliveryAddress ?? null,
        order.utm?.source ?? null,
        order.utm?.medium ?? null,
        order.utm?.campaign ?? null,
        order.createdAt,
        version,
        order.paidAt ?? null,
        contact.responsibleManagerId,
        envelope.id,
        order.items.map((_, i) => i + 1),
        order.items.map((i) => i.sku),
        order.items.map((i) => i.name),
        order.items.map((i) => i.quantity),
        order.items.map((i) => i.price),
      ],
    );
    if (rows.length === 0) {
      // An older version still knows when the order was paid if no newer version said so.
      if (order.paidAt) {
        await em.query(
          `UPDATE deals SET paid_at = $3, paid_at_version = $4, updated_at = now()
            WHERE peer_id = $1 AND external_id = $2 AND (paid_at_version IS NULL OR paid_at_version < $4)`,
          [envelope.peerId, order.externalId, order.paidAt, version],
        );
      }
      return 'stale';
    }
    const [deal] = rows;
    return deal.inserted ? 'created' : 'updated';
  }
}

export class UnmatchableCustomer extends DomainError {
  constructor(externalId: string) {
    super(
      ErrorCode.VALIDATION_FAILED,
      `order ${externalId}: customer has neither a valid phone nor email`,
      true,
    );
  }
}
