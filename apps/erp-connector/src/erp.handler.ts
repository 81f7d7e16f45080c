import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ERP_EVENT_TYPES, EventEnvelope } from '@switchboard/contracts';
import { CatalogProjector } from './catalog.projector';
import { DocumentProjector } from './document.projector';

/** Thin edge: catalog facts go to the set-based catalog projector, documents to the document projector. */
@Controller()
export class ErpHandler {
  constructor(
    private readonly catalog: CatalogProjector,
    private readonly documents: DocumentProjector,
  ) {}

  @EventPattern(ERP_EVENT_TYPES.productUpserted)
  product(@Payload() envelope: EventEnvelope): Promise<string> {
    return this.catalog.apply(envelope);
  }

  @EventPattern(ERP_EVENT_TYPES.priceUpdated)
  price(@Payload() envelope: EventEnvelope): Promise<string> {
    return this.catalog.apply(envelope);
  }

  @EventPattern(ERP_EVENT_TYPES.stockUpdated)
  stock(@Payload() envelope: EventEnvelope): Promise<string> {
    return this.catalog.apply(envelope);
  }

  @EventPattern(ERP_EVENT_TYPES.catalogBatch)
  catalogBatch(@Payload() envelope: EventEnvelope): Promise<string> {
    return this.catalog.applyBatch(envelope);
  }

  /**
   * After the upload's batches this process already holds: the completion counts the products applied, and a
   * batch still waiting for a slot here would make it retry. Batches on another replica, or redelivered later,
   * still send it round the retry ladder.
   */
  @EventPattern(ERP_EVENT_TYPES.catalogCompleted)
  async catalogCompleted(@Payload() envelope: EventEnvelope): Promise<string> {
    await this.catalog.afterBatchesReceived();
    return this.documents.catalogCompleted(envelope);
  }

  @EventPattern(ERP_EVENT_TYPES.invoiceIssued)
  invoiceIssued(@Payload() envelope: EventEnvelope): Promise<string> {
    return this.documents.invoice(envelope);
  }

  @EventPattern(ERP_EVENT_TYPES.invoicePaid)
  invoicePaid(@Payload() envelope: EventEnvelope): Promise<string> {
    return this.documents.invoice(envelope);
  }

  @EventPattern(ERP_EVENT_TYPES.invoiceCancelled)
  invoiceCancelled(@Payload() envelope: EventEnvelope): Promise<string> {
    return this.documents.invoice(envelope);
  }

  @EventPattern(ERP_EVENT_TYPES.orderStatusChanged)
  orderStatus(@Payload() envelope: EventEnvelope): Promise<string> {
    return this.documents.orderStatus(envelope);
  }
}
