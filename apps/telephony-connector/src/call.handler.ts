import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventEnvelope, TELEPHONY_EVENT_TYPES } from '@switchboard/contracts';
import { CallOutcome, CallProjector } from './call.projector';

/** Every telephony event type goes to the same fold; the type is a fact of the call's timeline. */
@Controller()
export class CallHandler {
  constructor(private readonly projector: CallProjector) {}

  @EventPattern(TELEPHONY_EVENT_TYPES.started)
  started(@Payload() envelope: EventEnvelope): Promise<CallOutcome> {
    return this.projector.apply(envelope);
  }

  @EventPattern(TELEPHONY_EVENT_TYPES.ringing)
  ringing(@Payload() envelope: EventEnvelope): Promise<CallOutcome> {
    return this.projector.apply(envelope);
  }

  @EventPattern(TELEPHONY_EVENT_TYPES.answered)
  answered(@Payload() envelope: EventEnvelope): Promise<CallOutcome> {
    return this.projector.apply(envelope);
  }

  @EventPattern(TELEPHONY_EVENT_TYPES.transferred)
  transferred(@Payload() envelope: EventEnvelope): Promise<CallOutcome> {
    return this.projector.apply(envelope);
  }

  @EventPattern(TELEPHONY_EVENT_TYPES.ended)
  ended(@Payload() envelope: EventEnvelope): Promise<CallOutcome> {
    return this.projector.apply(envelope);
  }

  @EventPattern(TELEPHONY_EVENT_TYPES.recordingReady)
  recordingReady(@Payload() envelope: EventEnvelope): Promise<CallOutcome> {
    return this.projector.apply(envelope);
  }

  @EventPattern(TELEPHONY_EVENT_TYPES.cdr)
  completed(@Payload() envelope: EventEnvelope): Promise<CallOutcome> {
    return this.projector.apply(envelope);
  }
}
