import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventEnvelope, EventType } from '@switchboard/contracts';
import { LeadOutcome, LeadProjector } from './lead.projector';

@Controller()
export class LeadHandler {
  constructor(private readonly projector: LeadProjector) {}

  @EventPattern(EventType.WebsiteLeadSubmitted)
  handle(@Payload() envelope: EventEnvelope): Promise<LeadOutcome> {
    return this.projector.apply(envelope);
  }
}
