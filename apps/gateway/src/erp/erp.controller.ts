import { Body, Controller, Headers, HttpCode, OnModuleInit, Post, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AppConfig } from '@switchboard/config';
import type { FastifyInstance } from 'fastify';
import {
  CONTRACTS,
  ContractViolation,
  ERP_EVENT_TYPES,
  invoiceEventType,
  INVOICE_STATUSES,
  type EventType,
  type FieldError,
  type InvoiceStatus,
} from '@switchboard/contracts';
import { ApiDoc, FastRoutes } from '@switchboard/http';
import type { AuthenticatedPeer } from '@switchboard/peer-auth';
import { ACCEPTED_MANY } from '../api-docs';
import { Peer, PeerAuthGuard } from '../auth/peer-auth.guard';
import { IngestService, type IngestRequest } from '../ingest.service';
import { acceptErpBodies } from './erp-bodies';
import { parseUblInvoice } from './ubl';

/** Items of one batch request; more go in several requests. */
export const MAX_BATCH_ITEMS = 1000;

/** A body of one item (object) or a batch (array of objects). */
export function itemsOf(body: unknown): { items: unknown[]; batch: boolean } {
  if (Array.isArray(body)) {
    if (body.length === 0 || body.length > MAX_BATCH_ITEMS) {
      throw new ContractViolation([
        { field: '', rule: 'arraySize', message: `a batch holds 1-${MAX_BATCH_ITEMS} items` },
      ]);
    }
    return { items: body, batch: true };
  }
  return { items: [body], batch: false };
}

/**
 * Validates every item before anything is published; a ContractViolation lists every item's field errors
 * (fields prefixed with the item's index in a batch), so the peer fixes the whole batch at once.
 */
export function prepareAll(
  ingest: IngestService,
  reqs: IngestRequest[],
  batch: boolean,
): ReturnType<IngestService['prepare']>[] {
  const errors: FieldError[] = [];
  const prepared = reqs.map((r, i) => {
    try {
      return ingest.prepare(r);
    } catch (err) {
      if (!(err instanceof ContractViolation)) throw err;
      errors.push(
        ...err.errors.map((e) => (batch ? { ...e, field: `${i}${e.field ? `.${e.field}` : ''}` } : e)),
      );
      return null;
    }
  });
  if (errors.length) throw new ContractViolation(errors);
  return prepared as ReturnType<IngestService['prepare']>[];
}

function invoiceType(item: unknown, index: number, batch: boolean): EventType {
  const status = (item as { status?: unknown } | null)?.status;
  if ((INVOICE_STATUSES as readonly unknown[]).includes(status))
    return invoiceEventType(status as InvoiceStatus);
  throw new ContractViolation([
    {
      field: batch ? `${index}.status` : 'status',
      rule: 'isIn',
      message: `status must be one of ${INVOICE_STATUSES.join(', ')}`,
    },
  ]);
}

/**
 * ERP facts in our own JSON (and invoices as UBL 2.1 / PEPPOL BIS 3 XML). One item or a batch (array); each
 * item is its own event; 202 = every event of the request is confirmed by the broker, in order.
 */
@FastRoutes()
@Controller('v1/erp')
@UseGuards(PeerAuthGuard)
export class ErpController implements OnModuleInit {
  constructor(
    private readonly ingest: IngestService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    acceptErpBodies(this.adapterHost.httpAdapter.getInstance<FastifyInstance>(), {
      xmlRoute: '/v1/erp/invoices',
      exchangePrefix: '/v1/providers/1c/',
      xmlLimitBytes: this.config.erp.invoiceXmlLimitBytes,
      chunkLimitBytes: this.config.erp.fileLimitBytes,
    });
  }

  @Post('stock')
  @ApiDoc({
    summary: 'Stock levels (erp.stock.updated): one item or a batch.',
    body: { dto: CONTRACTS[ERP_EVENT_TYPES.stockUpdated].dto, batchMaxItems: MAX_BATCH_ITEMS },
    responses: ACCEPTED_MANY,
  })
  @HttpCode(202)
  stock(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ eventIds: string[] }> {
    return this.submit(ERP_EVENT_TYPES.stockUpdated, body, peer, idempotencyKey);
  }

  @Post('prices')
  @ApiDoc({
    summary: 'Prices (erp.price.updated): one item or a batch.',
    body: { dto: CONTRACTS[ERP_EVENT_TYPES.priceUpdated].dto, batchMaxItems: MAX_BATCH_ITEMS },
    responses: ACCEPTED_MANY,
  })
  @HttpCode(202)
  prices(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ eventIds: string[] }> {
    return this.submit(ERP_EVENT_TYPES.priceUpdated, body, peer, idempotencyKey);
  }

  /** JSON (InvoiceV1 with `status`) or, with Content-Type application/xml, a UBL Invoice or CreditNote. */
  @Post('invoices')
  @ApiDoc({
    summary: 'Invoices (erp.invoice.issued/paid/cancelled by `status`): one, a batch, or UBL 2.1 XML.',
    body: {
      dto: CONTRACTS[ERP_EVENT_TYPES.invoiceIssued].dto,
      batchMaxItems: MAX_BATCH_ITEMS,
      raw: { 'application/xml': 'A UBL 2.1 / PEPPOL BIS 3 Invoice or CreditNote document.' },
    },
    responses: ACCEPTED_MANY,
  })
  @HttpCode(202)
  async invoices(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ eventIds: string[] }> {
    if (Buffer.isBuffer(body)) {
      const invoice = await parseUblInvoice(body);
      return this.ingest.acceptAll([
        { type: invoiceEventType(invoice.status), peer, body: invoice, idempotencyKey },
      ]);
    }
    const { items, batch } = itemsOf(body);
    const reqs = items.map((item, i) => ({
      type: invoiceType(item, i, batch),
      peer,
      body: item,
      idempotencyKey: batch ? undefined : idempotencyKey,
    }));
    return this.publishAll(reqs, batch);
  }

  private submit(
    type: EventType,
    body: unknown,
    peer: AuthenticatedPeer,
    idempotencyKey: string | undefined,
  ): Promise<{ eventIds: string[] }> {
    const { items, batch } = itemsOf(body);
    // A batch's items are identified by their natural keys: one header cannot name several facts.
    return this.publishAll(
      items.map((item) => ({ type, peer, body: item, idempotencyKey: batch ? undefined : idempotencyKey })),
      batch,
    );
  }

  private async publishAll(reqs: IngestRequest[], batch: boolean): Promise<{ eventIds: string[] }> {
    const prepared = prepareAll(this.ingest, reqs, batch);
    // Published together (the confirm channel keeps their order); 202 only once every one is confirmed.
    const results = await Promise.all(prepared.map((e) => this.ingest.publish(e)));
    return { eventIds: results.map((r) => r.eventId) };
  }
}
