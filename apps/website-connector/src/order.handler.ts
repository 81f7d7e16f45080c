import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventEnvelope, EventType } from '@switchboard/contracts';
import { OrderProjector, OrderOutcome } from './order.projector';

@Controller()
export class OrderHandler {
  constructor(private readonly projector: OrderProjector) {}

  @EventPattern(EventType.WebsiteOrderSubmitted)
  handle(@Payload() envelope: EventEnvelope): Promise<OrderOutcome> {
    return this.projector.apply(envelope);
  }
}
