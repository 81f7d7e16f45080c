import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CONTRACTS, EventType } from '@switchboard/contracts';
import { ApiDoc, FastRoutes } from '@switchboard/http';
import { ACCEPTED_ONE } from './api-docs';
import type { AuthenticatedPeer } from '@switchboard/peer-auth';
import { Peer, PeerAuthGuard } from './auth/peer-auth.guard';
import { IngestService } from './ingest.service';

@FastRoutes()
@Controller('v1/website')
@UseGuards(PeerAuthGuard)
export class WebsiteController {
  constructor(private readonly ingest: IngestService) {}

  /** 202 = the broker confirmed the order to a durable queue; processing follows asynchronously. */
  @Post('orders')
  @ApiDoc({
    summary: 'An order from the site (website.order.submitted v1).',
    body: { dto: CONTRACTS[EventType.WebsiteOrderSubmitted].dto },
    responses: ACCEPTED_ONE,
  })
  @HttpCode(202)
  submitOrder(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ eventId: string }> {
    return this.ingest.accept({ type: EventType.WebsiteOrderSubmitted, peer, body, idempotencyKey });
  }

  /** A site request (form, callback, subscription, quiz, chat) as website.lead.submitted v1; 202 as for orders. */
  @Post('leads')
  @ApiDoc({
    summary: 'A site request: form, callback, subscription, quiz, chat (website.lead.submitted v1).',
    body: { dto: CONTRACTS[EventType.WebsiteLeadSubmitted].dto },
    responses: ACCEPTED_ONE,
  })
  @HttpCode(202)
  submitLead(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ eventId: string }> {
    return this.ingest.accept({ type: EventType.WebsiteLeadSubmitted, peer, body, idempotencyKey });
  }

  /**
   * A personal account changed on the site (website.customer.updated v1); 202 as for orders. The connector links
   * it to a card and applies it when its version is newer than the card's.
   */
  @Post('customers')
  @HttpCode(202)
  submitCustomer(
    @Body() body: unknown,
    @Peer() peer: AuthenticatedPeer,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ eventId: string }> {
    return this.ingest.accept({ type: EventType.WebsiteCustomerUpdated, peer, body, idempotencyKey });
  }
}
