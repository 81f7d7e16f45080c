import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  CatalogCompletedV1,
  DomainError,
  ErrorCode,
  EventEnvelope,
  InvoiceV1,
  OrderStatusChangedV1,
  validateContract,
} from '@switchboard/contracts';
import {
  InvoiceRepository,
  LoyaltyRepository,
  normalizeEmail,
  normalizePhone,
  ProductRepository,
} from '@switchboard/crm';
import { EntityManager } from 'typeorm';
import { CLOCK, Clock } from './clock';
import { Inbox } from '@switchboard/database';

const CONSUMER = 'erp-connector';

/** Not yet: the facts this event depends on have not all arrived (retried by the transport's ladder). */
export class NotYetApplicable extends DomainError {
  constructor(message: string) {
    super(ErrorCode.CONFLICT, message, false);
  }
}

/**
 * Invoices, 1C order states and the end of a full catalog upload: one event per transaction through the
 * inbox (effectively once), each guarded by its version.
 */
@Injectable()
export class DocumentProjector {
  private readonly logger = new Logger('DocumentProjector');

  constructor(
    private readonly inbox: Inbox,
    private readonly invoices: InvoiceRepository,
    private readonly products: ProductRepository,
    private readonly config: AppConfig,
    private readonly loyalty: LoyaltyRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A deal paid or refunded changes its contact's loyalty spend: recomputed in the same transaction. */
  private async recomputeLoyalty(em: EntityManager, contactId: string | null): Promise<void> {
    if (!contactId) return;
    const { tiers, currency, windowDays } = this.config.crm.loyalty;
    await this.loyalty.recompute(em, [contactId], { tiers, currency, windowDays }, this.clock.now());
  }

  async invoice(envelope: EventEnvelope): Promise<string> {
    const inv = validateContract(InvoiceV1, envelope.payload);
    const phone = normalizePhone(inv.buyer.phone, this.config.crm.defaultRegion);
    const email = normalizeEmail(inv.buyer.email);
    const outcome = await this.inbox.process(
      CONSUMER,
      envelope,
      async (em) => {
        const deal =
          (await this.invoices.findDeal(em, inv.dealExternalId)) ??
          (await this.invoices.findDeal(em, inv.orderReference));
        const contactId =
          (await this.invoices.findContact(em, { taxId: inv.buyer.taxId, phone, email })) ??
          deal?.contactId ??
          null;
        const written = await this.invoices.upsert(
          em,
          {
            peerId: envelope.peerId,
            number: inv.number,
            kind: inv.kind,
            status: inv.status,
            typeCode: inv.typeCode ?? null,
            issueDate: inv.issueDate,
            dueDate: inv.dueDate ?? null,
            paidAt: inv.paidAt ?? null,
            currency: inv.currency,
            buyerReference: inv.buyerReference ?? null,
            orderReference: inv.orderReference ?? inv.dealExternalId ?? null,
            billingReference: inv.billingReference ?? null,
            seller: { ...inv.seller },
            buyer: { ...inv.buyer },
            taxTotal: inv.taxTotal,
            totalWithoutTax: inv.totalWithoutTax ?? null,
            total: inv.total,
            version: inv.version,
            eventId: envelope.id,
            lines: inv.lines.map((l) => ({
              sku: l.sku ?? null,
              productExternalId: l.productExternalId ?? null,
              name: l.name,
              quantity: l.quantity,
              unitCode: l.unitCode ?? null,
              price: l.price,
              amount: l.amount,
              taxPercent: l.taxPercent ?? null,
            })),
          },
          deal?.id ?? null,
          contactId,
        );
        if (!written) return { outcome: 'stale' };
        const dealId = written.dealId ?? deal?.id ?? null;
        if (inv.status === 'paid' && inv.kind === 'invoice' && dealId) {
          await this.recomputeLoyalty(
            em,
            await this.invoices.markDealPaid(em, dealId, inv.paidAt ?? null, envelope.occurredAt),
          );
        }
        return { outcome: written.inserted ? 'created' : 'updated' };
      },
      [`invoice:${envelope.peerId}:${inv.kind}:${inv.number}`],
    );
    return outcome.duplicate ? 'duplicate' : outcome.result.outcome;
  }

  async orderStatus(envelope: EventEnvelope): Promise<string> {
    const s = validateContract(OrderStatusChangedV1, envelope.payload);
    const outcome = await this.inbox.process(
      CONSUMER,
      envelope,
      async (em) => {
        const deal = await this.invoices.findDeal(em, s.orderId);
        // Retried, then dead-lettered (visible, replayable): the site's order may not be projected yet.
        if (!deal) throw new NotYetApplicable(`no deal for order ${s.orderId}`);
        const applied = await this.invoices.applyOrderStatus(em, deal.id, {
          status: s.status,
          erpNumber: s.erpNumber ?? null,
          paidAt: s.paidAt ?? null,
          shippedAt: s.shippedAt ?? null,
          version: s.version,
          occurredAt: envelope.occurredAt,
        });
        if (applied && ['paid', 'refunded', 'cancelled'].includes(s.status))
          await this.recomputeLoyalty(em, deal.contactId);
        return { outcome: applied ? 'updated' : 'stale' };
      },
      [`deal-erp:${s.orderId}`],
    );
    return outcome.duplicate ? 'duplicate' : outcome.result.outcome;
  }

  async catalogCompleted(envelope: EventEnvelope): Promise<string> {
    const c = validateContract(CatalogCompletedV1, envelope.payload);
    const outcome = await this.inbox.process(CONSUMER, envelope, async (em) => {
      const seen = await this.products.countSeen(em, envelope.peerId, c.version);
      if (seen < c.listed) {
        throw new NotYetApplicable(`upload ${c.uploadId}: ${seen} of ${c.listed} products applied so far`);
      }
      const gone = await this.products.deactivateUnlisted(em, envelope.peerId, c.version);
      this.logger.log(`upload ${c.uploadId}: ${gone} products not listed became inactive`);
      return { outcome: 'updated' };
    });
    return outcome.duplicate ? 'duplicate' : outcome.result.outcome;
  }
}
