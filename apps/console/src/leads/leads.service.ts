import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { ConflictError, ContractViolation, NotFoundError } from '@switchboard/contracts';
import {
  CallsRepository,
  ContactsRepository,
  DealsRepository,
  identityLockKeys,
  LeadRow,
  leadVisibleTo,
  LeadStatusValue,
  LeadsRepository,
  ManagersRepository,
  normalizeEmail,
  normalizePhone,
  OPEN_LEAD_STATUSES,
  TasksRepository,
} from '@switchboard/crm';
import { lockAll } from '@switchboard/database';
import { DataSource, EntityManager } from 'typeorm';
import { instant, limitOf, oneOf, RawQuery, single, uuid, violation } from '../query-params';
import { CLOCK, Clock } from './clock';

const STATUSES: LeadStatusValue[] = ['new', 'in_progress', 'unqualified', 'junk', 'converted', 'refused'];
const REOPENABLE: LeadStatusValue[] = ['refused', 'unqualified', 'junk'];

const encodeCursor = (l: LeadRow) =>
  Buffer.from(`${new Date(l.createdAt).toISOString()}|${l.id}`, 'utf8').toString('base64url');
function decodeCursor(raw: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const ms = Date.parse(at ?? '');
  if (
    !/^[A-Za-z0-9_-]{1,200}$/.test(raw) ||
    Number.isNaN(ms) ||
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id ?? '')
  )
    throw violation('cursor', 'isCursor', 'cursor is not one this API issued');
  return { createdAt: new Date(ms), id };
}

/** Lead ids are uuids: anything else names no lead (404), and never reaches SQL as a bad cast (500). */
function mustBeLeadId(id: string): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    throw new NotFoundError(`no lead ${id}`);
}

export interface ConvertInput {
  deal?: { title: string; amount: number; currency: string };
}

/** The lead lifecycle: claim, assign, convert, refuse, reopen; each change one guarded statement + history. */
@Injectable()
export class LeadsService {
  constructor(
    private readonly ds: DataSource,
    private readonly leads: LeadsRepository,
    private readonly contacts: ContactsRepository,
    private readonly deals: DealsRepository,
    private readonly tasks: TasksRepository,
    private readonly managers: ManagersRepository,
    private readonly calls: CallsRepository,
    private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** `scope`: a manager operator's managers row (rowScope): only the leads it may see. */
  async list(q: RawQuery, scope?: string) {
    const region = this.config.crm.defaultRegion;
    const rawPhone = single(q, 'phone');
    const rawEmail = single(q, 'email');
    const phone = rawPhone === undefined ? undefined : normalizePhone(rawPhone, region);
    const email = rawEmail === undefined ? undefined : normalizeEmail(rawEmail);
    if (phone === null) throw violation('phone', 'isPhone', 'phone is not a phone number');
    if (email === null) throw violation('email', 'isEmail', 'email is not an email address');
    const from = instant(q, 'from');
    const to = instant(q, 'to');
    const cursor = single(q, 'cursor');
    const limit = limitOf(single(q, 'limit'), 50, 500);
    const items = await this.leads.list(this.ds.manager, {
      status: oneOf(q, 'status', STATUSES),
      managerId: uuid(q, 'managerId'),
      source: single(q, 'source'),
      phone,
      email,
      from: from && new Date(from.ms),
      to: to && new Date(to.ms),
      after: cursor === undefined ? undefined : decodeCursor(cursor),
      visibleTo: scope,
      limit,
    });
    return { items, nextCursor: items.length === limit ? encodeCursor(items[items.length - 1]) : null };
  }

  async card(id: string, scope?: string) {
    const lead = await this.mustGet(this.ds.manager, id, scope);
    const [history, tasks, calls] = await Promise.all([
      this.leads.history(this.ds.manager, id),
      this.tasks.list(this.ds.manager, { leadId: id, limit: 500 }),
      this.calls.forLead(this.ds.manager, id),
    ]);
    // Calls are linked by the call projector (call_logs.lead_id); they join the history at their start time.
    const callEntries = calls.map((c) => ({
      kind: 'call' as const,
      summary: `${c.direction} call, ${c.disposition ?? c.status}`,
      details: { callId: c.id, managerId: c.managerId, talkSeconds: c.talkSeconds },
      actor: c.managerId,
      refId: c.id,
      occurredAt: c.startedAt,
    }));
    const merged = [...history, ...callEntries].sort(
      (a, b) => new Date(a.occurredAt).getTime() - new Date(b.occurredAt).getTime(),
    );
    return { ...lead, history: merged, tasks, calls };
  }

  /** First claim wins; a lead already in progress (or closed) is a 409. */
  claim(id: string, managerId: string, scope?: string) {
    mustBeLeadId(id);
    return this.ds.transaction(async (em) => {
      if (scope) await this.mustGet(em, id, scope);
      await this.mustBeManager(em, managerId);
      const now = this.clock.now();
      const lead = await this.leads.transition(em, id, ['new'], {
        status: 'in_progress',
        responsibleManagerId: managerId,
        firstContactAt: now,
      });
      if (!lead) throw await this.conflict(em, id, 'claimed');
      await this.history(
        em,
        id,
        'status',
        `claimed by ${managerId}`,
        { status: 'in_progress', managerId },
        managerId,
        now,
      );
      return lead;
    });
  }

  assign(id: string, managerId: string) {
    mustBeLeadId(id);
    return this.ds.transaction(async (em) => {
      await this.mustBeManager(em, managerId);
      const lead = await this.leads.transition(em, id, OPEN_LEAD_STATUSES, {
        responsibleManagerId: managerId,
        assignmentRule: 'manual',
      });
      if (!lead) throw await this.conflict(em, id, 'assigned');
      await em.query(
        `UPDATE tasks SET responsible_manager_id = $2, updated_at = now() WHERE lead_id = $1 AND status = 'open'`,
        [id, managerId],
      );
      await this.history(
        em,
        id,
        'assignment',
        `assigned to ${managerId}`,
        { managerId, rule: 'manual' },
        'operator',
        this.clock.now(),
      );
      return lead;
    });
  }

  convert(id: string, input: ConvertInput, scope?: string) {
    mustBeLeadId(id);
    return this.ds.transaction(async (em) => {
      const current = await this.mustGet(em, id, scope);
      if (!current.phone && !current.email)
        throw new ContractViolation([
          {
            field: 'id',
            rule: 'hasContact',
            message: 'a lead with neither phone nor email cannot become a contact',
          },
        ]);
      // The same identity locks intake and the connectors take: the contact is found or made exactly once.
      await lockAll(em, identityLockKeys({ phone: current.phone, email: current.email }));
      const locked = await this.leads.get(em, id, true);
      if (!locked || !OPEN_LEAD_STATUSES.includes(locked.status))
        throw await this.conflict(em, id, 'converted');
      const contact = await this.contacts.findOrCreate(em, {
        name: locked.name,
        phone: locked.phone,
        email: locked.email,
        source: locked.sourceChannel,
        siteCustomerId: locked.siteCustomerId,
        peerId: locked.peerId,
      });
      const managerId = locked.responsibleManagerId ?? contact.responsibleManagerId;
      const deal = input.deal
        ? await this.deals.createFromLead(em, {
            leadId: id,
            contactId: contact.id,
            title: input.deal.title,
            amount: String(input.deal.amount),
            currency: input.deal.currency,
            responsibleManagerId: managerId,
          })
        : null;
      const now = this.clock.now();
      const lead = await this.leads.transition(em, id, OPEN_LEAD_STATUSES, {
        status: 'converted',
        convertedContactId: contact.id,
        convertedDealId: deal?.id ?? null,
        closedAt: now,
      });
      await this.history(
        em,
        id,
        'status',
        'converted',
        { contactId: contact.id, dealId: deal?.id ?? null },
        'operator',
        now,
      );
      return lead;
    });
  }

  refuse(id: string, reason: string, scope?: string) {
    const reasons = this.config.crm.leads.refuseReasons;
    if (!reasons.includes(reason))
      throw new ContractViolation([
        { field: 'reason', rule: 'isIn', message: `reason must be one of: ${reasons.join(', ')}` },
      ]);
    mustBeLeadId(id);
    return this.ds.transaction(async (em) => {
      if (scope) await this.mustGet(em, id, scope);
      const now = this.clock.now();
      const lead = await this.leads.transition(em, id, OPEN_LEAD_STATUSES, {
        status: 'refused',
        refuseReason: reason,
        closedAt: now,
      });
      if (!lead) throw await this.conflict(em, id, 'refused');
      await em.query(
        `UPDATE tasks SET status = 'cancelled', result = 'lead refused', closed_at = $2, updated_at = now()
          WHERE lead_id = $1 AND status = 'open'`,
        [id, now],
      );
      await this.history(
        em,
        id,
        'status',
        `refused (${reason})`,
        { status: 'refused', reason },
        'operator',
        now,
      );
      return lead;
    });
  }

  reopen(id: string, scope?: string) {
    mustBeLeadId(id);
    return this.ds.transaction(async (em) => {
      if (scope) await this.mustGet(em, id, scope);
      const now = this.clock.now();
      const lead = await this.leads.transition(em, id, REOPENABLE, {
        status: 'new',
        refuseReason: null,
        statusReason: null,
        closedAt: null,
      });
      if (!lead) throw await this.conflict(em, id, 'reopened');
      await this.history(em, id, 'status', 'reopened', { status: 'new' }, 'operator', now);
      return lead;
    });
  }

  /** With `scope`, a lead the manager operator may not see is as absent as one that does not exist. */
  private async mustGet(em: EntityManager, id: string, scope?: string): Promise<LeadRow> {
    mustBeLeadId(id);
    const lead = await this.leads.get(em, id);
    if (!lead || (scope && !leadVisibleTo(lead, scope))) throw new NotFoundError(`no lead ${id}`);
    return lead;
  }

  private async mustBeManager(em: EntityManager, managerId: string): Promise<void> {
    const m = await this.managers.get(em, managerId);
    if (!m || !m.active) throw violation('managerId', 'isActiveManager', `no active manager ${managerId}`);
  }

  /** Why a guarded change did not apply: no such lead (404), or its status does not allow it (409). */
  private async conflict(em: EntityManager, id: string, verb: string): Promise<Error> {
    const lead = await this.mustGet(em, id);
    return new ConflictError(`lead ${id} is ${lead.status} and cannot be ${verb}`);
  }

  private history(
    em: EntityManager,
    leadId: string,
    kind: 'status' | 'assignment',
    summary: string,
    details: Record<string, unknown>,
    actor: string,
    at: Date,
  ) {
    return this.leads.addActivity(em, leadId, { kind, summary, details, actor, refId: null, occurredAt: at });
  }
}
