import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { ContractViolation, NotFoundError } from '@switchboard/contracts';
import {
  CallLog,
  Contact,
  ContactIdentity,
  Deal,
  Lead,
  normalizeEmail,
  normalizePhone,
  Task,
} from '@switchboard/crm';
import { DataSource, FindOptionsWhere, In, Raw } from 'typeorm';
import { oneOf, RawQuery, single } from './query-params';

/** How many of a contact's calls its card shows (the full history is GET /v1/crm/calls?contactId=). */
export const CONTACT_CARD_CALLS = 20;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Query strings as the HTTP layer hands them over (a repeated parameter arrives as an array). */
export type ContactQuery = RawQuery;
export type DealQuery = RawQuery;

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500) {
    throw new ContractViolation([
      { field: 'limit', rule: 'range', message: 'limit must be an integer 1-500' },
    ]);
  }
  return n;
}

/** Read side for operators. Searches use the same normalization as matching, so "8 912…" finds "+7912…". */
@Injectable()
export class CrmQueryService {
  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
  ) {}

  /** `scope`: a manager operator's managers row (rowScope); only contacts it is responsible for. */
  async contacts(q: ContactQuery, scope?: string): Promise<Contact[]> {
    const take = parseLimit(single(q, 'limit'));
    const where: FindOptionsWhere<Contact> = {};
    if (scope) where.responsibleManagerId = scope;
    const rawPhone = single(q, 'phone');
    const rawEmail = single(q, 'email');
    if (rawPhone !== undefined) {
      const phone = normalizePhone(rawPhone, this.config.crm.defaultRegion);
      if (!phone)
        throw new ContractViolation([{ field: 'phone', rule: 'isPhone', message: 'not a phone number' }]);
      where.phones = Raw((col) => `${col} @> ARRAY[:phone]::text[]`, { phone });
    }
    if (rawEmail !== undefined) {
      const email = normalizeEmail(rawEmail);
      if (!email) throw new ContractViolation([{ field: 'email', rule: 'isEmail', message: 'not an email' }]);
      where.emails = Raw((col) => `${col} @> ARRAY[:email]::text[]`, { email });
    }
    return this.ds.getRepository(Contact).find({ where, order: { createdAt: 'DESC' }, take });
  }

  /** The contact card: deals, the most recent calls (no timeline) and open tasks. */
  async contact(
    id: string,
    scope?: string,
  ): Promise<
    Contact & { deals: Deal[]; calls: CallLog[]; tasks: Task[]; identities: ContactIdentity[]; leads: Lead[] }
  > {
    if (!UUID.test(id)) throw new NotFoundError(`No contact ${id}.`);
    const contact = await this.ds.getRepository(Contact).findOne({ where: { id } });
    if (!contact || (scope && contact.responsibleManagerId !== scope))
      throw new NotFoundError(`No contact ${id}.`);
    const [deals, calls, tasks, identities, leads] = await Promise.all([
      this.ds.getRepository(Deal).find({
        where: { contactId: id },
        relations: { items: true },
        order: { createdAt: 'DESC', items: { position: 'ASC' } },
      }),
      this.ds.getRepository(CallLog).find({
        where: { contactId: id },
        order: { startedAt: 'DESC', id: 'DESC' },
        take: CONTACT_CARD_CALLS,
      }),
      this.ds.getRepository(Task).find({
        where: { contactId: id, status: 'open' },
        order: { dueAt: { direction: 'ASC', nulls: 'LAST' }, createdAt: 'ASC', id: 'ASC' },
      }),
      // Provenance: which peer attached each phone/email, and whether it is verified (see ContactsRepository).
      this.ds.getRepository(ContactIdentity).find({
        where: { contactId: id },
        order: { attachedAt: 'ASC', kind: 'ASC', value: 'ASC' },
      }),
      // The leads converted into this contact: the other half of the lead's convertedContactId link.
      this.ds
        .getRepository(Lead)
        .find({ where: { convertedContactId: id }, order: { createdAt: 'ASC', id: 'ASC' } }),
    ]);
    return { ...contact, deals, calls, tasks, identities, leads };
  }

  async deals(q: DealQuery, scope?: string): Promise<Deal[]> {
    const take = parseLimit(single(q, 'limit'));
    const where: FindOptionsWhere<Deal> = {};
    if (scope) where.responsibleManagerId = scope;
    const [externalId, peerId, contactId] = ['externalId', 'peerId', 'contactId'].map((f) => single(q, f));
    if (externalId !== undefined) where.externalId = externalId;
    if (peerId !== undefined) where.peerId = peerId;
    const test = oneOf(q, 'test', ['true', 'false'] as const);
    if (test !== undefined) where.test = test === 'true';
    if (contactId !== undefined) {
      if (!UUID.test(contactId)) return [];
      where.contactId = In([contactId]);
    }
    return this.ds.getRepository(Deal).find({
      where,
      relations: { items: true },
      order: { createdAt: 'DESC', items: { position: 'ASC' } },
      take,
    });
  }
}
