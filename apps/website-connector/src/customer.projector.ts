import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { CustomerUpdatedV1, EventEnvelope, validateContract } from '@switchboard/contracts';
import {
  CustomersRepository,
  normalizeEmail,
  normalizePhone,
  SiteCustomerOutcome,
  SiteCustomerRevision,
} from '@switchboard/crm';
import { Inbox } from '@switchboard/database';

export const CUSTOMER_CONSUMER = 'website-connector:customers';

export type CustomerOutcome = SiteCustomerOutcome | 'duplicate';

const unique = (xs: Array<string | null>): string[] => [...new Set(xs.filter((x): x is string => !!x))];

/**
 * website.customer.updated -> the site account linked to its card (CustomersRepository.applySiteRevision),
 * applied only when its version is newer than the last one applied: a redelivery is recognised by the inbox, a
 * late older revision changes nothing. No outbox row: the site already knows what it sent.
 */
@Injectable()
export class CustomerProjector {
  private readonly logger = new Logger('CustomerProjector');

  constructor(
    private readonly inbox: Inbox,
    private readonly customers: CustomersRepository,
    private readonly config: AppConfig,
  ) {}

  async apply(envelope: EventEnvelope): Promise<CustomerOutcome> {
    const c = validateContract(CustomerUpdatedV1, envelope.payload);
    const region = this.config.crm.defaultRegion;
    // A phone or email that is no phone or email cannot match or reach anyone: it is left out of the card.
    const revision: SiteCustomerRevision = {
      peerId: envelope.peerId,
      siteCustomerId: c.siteCustomerId,
      version: c.version,
      name: c.name,
      phones: unique((c.phones ?? []).map((p) => normalizePhone(p, region))),
      emails: unique((c.emails ?? []).map((e) => normalizeEmail(e))),
      birthday: c.birthday,
      address: c.address === undefined || c.address === null ? c.address : { ...c.address },
      consents: c.consents,
    };
    const out = await this.inbox.process(
      CUSTOMER_CONSUMER,
      envelope,
      (em) => this.customers.applySiteRevision(em, revision, `website:${envelope.peerId}`),
      this.customers.lockKeys(revision),
    );
    const result: CustomerOutcome = out.duplicate ? 'duplicate' : out.result.outcome;
    this.logger.debug(`customer ${c.siteCustomerId}@${c.version}: ${result}`);
    return result;
  }
}
