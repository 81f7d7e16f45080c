import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventEnvelope, EventType } from '@switchboard/contracts';
import { CustomerOutcome, CustomerProjector } from './customer.projector';

@Controller()
export class CustomerHandler {
  constructor(private readonly projector: CustomerProjector) {}

  @EventPattern(EventType.WebsiteCustomerUpdated)
  handle(@Payload() envelope: EventEnvelope): Promise<CustomerOutcome> {
    return this.projector.apply(envelope);
  }
}
