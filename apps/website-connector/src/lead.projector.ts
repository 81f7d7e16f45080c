import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { EventEnvelope, LeadSubmittedV1, validateContract } from '@switchboard/contracts';
import {
  DISPOSABLE_DOMAINS,
  identityLockKeys,
  IntakeOutcome,
  LeadIntake,
  normalizeIdentity,
} from '@switchboard/crm';
import { Inbox } from '@switchboard/database';
import { CLOCK, Clock } from './clock';

export const LEAD_CONSUMER = 'website-connector:leads';

export type LeadOutcome = IntakeOutcome['outcome'] | 'duplicate';

/**
 * website.lead.submitted -> a lead card (libs/crm LeadIntake): qualified, deduplicated across contacts and open
 * leads, assigned by the rules, with its tasks. Effectively once (the inbox marker commits with the effects);
 * the person's phone/email advisory locks make concurrent requests from one new person one lead.
 */
@Injectable()
export class LeadProjector {
  private readonly logger = new Logger('LeadProjector');

  constructor(
    private readonly inbox: Inbox,
    private readonly intake: LeadIntake,
    private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async apply(envelope: EventEnvelope): Promise<LeadOutcome> {
    const lead = validateContract(LeadSubmittedV1, envelope.payload);
    const settings = this.config.crm.leads;
    const region = this.config.crm.defaultRegion;
    const keys = identityLockKeys(normalizeIdentity(lead, region));
    const out = await this.inbox.process(
      LEAD_CONSUMER,
      envelope,
      (em) =>
        this.intake.submit(
          em,
          lead,
          { peerId: envelope.peerId, eventId: envelope.id },
          {
            defaultRegion: region,
            disposableDomains: [...DISPOSABLE_DOMAINS, ...settings.disposableDomains],
            repeatWindowMinutes: settings.repeatWindowMinutes,
            firstContactDueMinutes: settings.firstContactDueMinutes,
            callbackDueMinutes: settings.callbackDueMinutes,
            assignmentRules: settings.assignmentRules,
          },
          this.clock.now(),
        ),
      keys,
    );
    const result: LeadOutcome = out.duplicate ? 'duplicate' : out.result.outcome;
    this.logger.debug(`lead ${envelope.id}: ${result}`);
    return result;
  }
}
