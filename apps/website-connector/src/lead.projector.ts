import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { EventEnvelope, LeadSubmittedV1, validateContract } from '@switchboard/contracts';
import {
  DISPOSABLE_DOMAINS,
  identityLockKeys,
  IntakeOutcome,
  LeadIntake,
  LeadIntakeSettings,
  qualify,
} from '@switchboard/crm';
import { BatchingInbox, BatchItem } from '@switchboard/database';
import { EntityManager } from 'typeorm';
import { CLOCK, Clock } from './clock';

export const LEAD_CONSUMER = 'website-connector:leads';

export type LeadOutcome = IntakeOutcome['outcome'] | 'duplicate';

/**
 * Batch shape for lead intake. Every statement of a batch is set-based, so a batch costs about the same number
 * of round trips whatever its size. One batch at a time: batches of one site's traffic share people and the
 * assignment lock, so concurrent ones would mostly queue on each other; while one runs, the next fills up (up
 * to the connector's prefetch).
 */
export const LEAD_BATCHING = { maxBatch: 500, lingerMs: 5, maxConcurrent: 1 };

interface LeadItem {
  req: LeadSubmittedV1;
  qualification: ReturnType<typeof qualify>;
}

type Item = Pick<BatchItem<IntakeOutcome, LeadItem>, 'envelope'> & { data: LeadItem };

/**
 * website.lead.submitted -> a lead card (libs/crm LeadIntake): qualified, deduplicated across contacts and open
 * leads, assigned by the rules, with its tasks. Effectively once (the inbox markers commit with the effects).
 * A batch of requests is one transaction (BatchingInbox): the people's phone/email advisory locks for the whole
 * batch, then LeadIntake.submitMany, set-based with the result of taking the requests one by one, so
 * concurrent requests from one new person still make one lead. A failed batch is retried request by request.
 */
@Injectable()
export class LeadProjector {
  private readonly logger = new Logger('LeadProjector');
  private readonly debug: boolean;

  constructor(
    private readonly inbox: BatchingInbox,
    private readonly intake: LeadIntake,
    private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.debug = config.log.level === 'debug';
    inbox.configure<IntakeOutcome, LeadItem>(LEAD_CONSUMER, {
      ...LEAD_BATCHING,
      batchEffects: (em, items) => this.projectBatch(em, items as Item[]),
    });
  }

  async apply(envelope: EventEnvelope): Promise<LeadOutcome> {
    // Re-validate: the broker accepts anything, and a bad payload must dead-letter, not half-apply.
    const req = validateContract(LeadSubmittedV1, envelope.payload);
    // Qualified once, here: the lock keys are the phone and email intake reads and writes by (a number that is
    // no valid phone is never looked up), the same `phone:`/`email:` keys orders and calls take.
    const settings = this.settings();
    const qualification = qualify(req, settings.defaultRegion, settings.disposableDomains);
    const data: LeadItem = { req, qualification };
    const out = await this.inbox.submit<IntakeOutcome, LeadItem>(LEAD_CONSUMER, {
      envelope,
      data,
      lockKeys: identityLockKeys(qualification),
      // Alone (a failed batch's retry): the same code as a batch of one.
      effects: async (em) => (await this.projectBatch(em, [{ envelope, data }]))[0],
    });
    const result: LeadOutcome = out.duplicate ? 'duplicate' : out.result.outcome;
    // Only when debug lines are kept: building and filtering one per lead was ~4 % of the connector's CPU.
    if (this.debug) this.logger.debug(`lead ${envelope.id}: ${result}`);
    return result;
  }

  /** The effects of a batch of fresh requests (each event once): one outcome per request, in order. */
  projectBatch(em: EntityManager, items: Item[]): Promise<IntakeOutcome[]> {
    return this.intake.submitMany(
      em,
      items.map((i) => ({
        req: i.data.req,
        qualification: i.data.qualification,
        source: { peerId: i.envelope.peerId, eventId: i.envelope.id },
      })),
      this.settings(),
      this.clock.now(),
    );
  }

  /** Read from config once: the same for every request. */
  private settings(): LeadIntakeSettings {
    return (this.cachedSettings ??= this.readSettings());
  }

  private cachedSettings: LeadIntakeSettings | null = null;

  private readSettings(): LeadIntakeSettings {
    const leads = this.config.crm.leads;
    return {
      defaultRegion: this.config.crm.defaultRegion,
      disposableDomains: [...DISPOSABLE_DOMAINS, ...leads.disposableDomains],
      repeatWindowMinutes: leads.repeatWindowMinutes,
      firstContactDueMinutes: leads.firstContactDueMinutes,
      callbackDueMinutes: leads.callbackDueMinutes,
      assignmentRules: leads.assignmentRules,
    };
  }
}
