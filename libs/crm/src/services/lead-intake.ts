import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AssignmentRule } from '../rules/assignment';
import { CardCandidate, matchCard } from '../rules/dedup';
import { DISPOSABLE_DOMAINS, qualify, requestFingerprint } from '../rules/qualify';
import { ContactsRepository } from '../repositories/contacts.repository';
import { LeadActivity, LeadRow, LeadsRepository, NewLead } from '../repositories/leads.repository';
import { ManagersRepository } from '../repositories/managers.repository';
import { NewTask, TasksRepository } from '../repositories/tasks.repository';
import { CardAssigner } from './card-assigner';

/** What a website request carries (website.lead.submitted v1, already validated). */
export interface LeadRequest {
  kind: 'form' | 'callback' | 'subscription' | 'quiz' | 'chat';
  formId?: string | null;
  formName?: string | null;
  name?: string | null;
  phone?: string | null;
  email?: string | null;
  message?: string | null;
  consents?: Record<string, unknown> | null;
  pageUrl?: string | null;
  referrer?: string | null;
  utm?: { source?: string; medium?: string; campaign?: string; term?: string; content?: string } | null;
  analyticsClientId?: string | null;
  siteCustomerId?: string | null;
  honeypot?: string | null;
  occurredAt: string;
}

export interface LeadIntakeSettings {
  defaultRegion: string;
  disposableDomains?: readonly string[];
  /** The same request (person, form, message) again within this many minutes collapses into the first. */
  repeatWindowMinutes: number;
  /** First-contact task due per source ("website:<peer>", "website", "default"), in minutes. */
  firstContactDueMinutes: Record<string, number>;
  /** Call-back tasks for `callback` requests are due this many minutes after the request. */
  callbackDueMinutes: number;
  /** Rules from config, used while none are stored (PUT /v1/admin/assignment-rules). */
  assignmentRules?: readonly AssignmentRule[];
}

export type IntakeOutcome =
  | {
      outcome: 'created';
      leadId: string;
      status: LeadRow['status'];
      managerId: string | null;
      rule: string | null;
    }
  | { outcome: 'attached'; leadId: string | null; contactId: string | null; managerId: string | null }
  | { outcome: 'collapsed'; leadId: string };

/** One request of a batch and where it came from. */
export interface LeadSubmission {
  req: LeadRequest;
  source: { peerId: string; eventId: string };
  /** The request's qualify() result when the caller has it already (it took its lock keys from it). */
  qualification?: Qualified;
}

type Qualified = ReturnType<typeof qualify>;

/** A request of a batch, qualified and keyed. */
interface Prepared extends LeadSubmission {
  q: Qualified;
  at: Date;
  sourceChannel: string;
  fingerprint: string;
  request: LeadActivity;
}

/** What a request does, decided in batch order before anything is written. */
type Plan =
  | { kind: 'collapsed'; leadId: string }
  | { kind: 'attached'; card: CardCandidate; leadId: string | null }
  | { kind: 'created'; card: CardCandidate; rule: string | null };

const identityKeys = (phone: string | null, email: string | null): string[] => [
  ...(phone ? [`phone:${phone}`] : []),
  ...(email ? [`email:${email}`] : []),
];

/**
 * Website requests into the CRM, inside the caller's transaction, with the people's identity locks already held
 * (identityLockKeys: the same keys contacts and the telephony connector use), so concurrent requests from one
 * new person make one lead. Per request: qualify (kept whatever the outcome) → collapse a repeat → attach to a
 * known contact or open lead (responsible unchanged) → else a new lead, assigned by the rules, with its tasks.
 *
 * A batch is set-based with the result of submitting its requests one by one in order: one lookup per kind for
 * the whole batch (repeats, contacts, open leads, open call-backs), then the requests are decided in order in
 * memory, each seeing what the earlier ones made (a repeat collapses into a lead made by the same batch; a second
 * request of a new person attaches to the lead the first made), then the new leads are assigned in order (one
 * round-robin turn each, loads counted up as they go), and leads, history and tasks are written in one
 * statement each.
 */
@Injectable()
export class LeadIntake {
  constructor(
    private readonly leads: LeadsRepository,
    private readonly contacts: ContactsRepository,
    managers: ManagersRepository,
    private readonly tasks: TasksRepository,
  ) {
    // Stateless over the managers repository: made here, so the constructor stays what callers know.
    this.assigner = new CardAssigner(managers);
  }

  private readonly assigner: CardAssigner;

  async submit(
    em: EntityManager,
    req: LeadRequest,
    source: { peerId: string; eventId: string },
    settings: LeadIntakeSettings,
    now: Date,
  ): Promise<IntakeOutcome> {
    return (await this.submitMany(em, [{ req, source }], settings, now))[0];
  }

  /** One outcome per request, in order. */
  async submitMany(
    em: EntityManager,
    submissions: LeadSubmission[],
    settings: LeadIntakeSettings,
    now: Date,
  ): Promise<IntakeOutcome[]> {
    if (submissions.length === 0) return [];
    const items = submissions.map((s) => this.prepare(s, settings));
    const windowMs = settings.repeatWindowMinutes * 60_000;
    const reachable = items.filter((i) => i.q.phone || i.q.email);
    const qualified = items.filter((i) => i.q.status === 'new');
    const phonesOf = (xs: Prepared[]) => [...new Set(xs.flatMap((i) => (i.q.phone ? [i.q.phone] : [])))];
    const emailsOf = (xs: Prepared[]) => [...new Set(xs.flatMap((i) => (i.q.email ? [i.q.email] : [])))];

    // The batch's lookups, one statement each.
    const recent = await this.leads.latestRequests(
      em,
      reachable.map((i) => i.fingerprint),
      reachable.map((i) => new Date(i.at.getTime() - windowMs)),
    );
    const contactsByKey = await this.contacts.findByIdentities(em, phonesOf(qualified), emailsOf(qualified));
    const contactIds = [...new Set([...contactsByKey.values()].flat().map((c) => c.id))];
    const contactLeads = await this.leads.openForContacts(em, contactIds);
    const leadsByKey = new Map<string, CardCandidate[]>();
    const indexLead = (card: CardCandidate) => {
      for (const key of identityKeys(card.phones[0] ?? null, card.emails[0] ?? null))
        leadsByKey.set(key, [...(leadsByKey.get(key) ?? []), card]);
    };
    for (const card of await this.leads.openCardsMany(em, phonesOf(qualified), emailsOf(qualified)))
      indexLead(card);

    // Decide each request in order; what an earlier one makes is seen by the later ones.
    const plans: Plan[] = items.map((item) => {
      if (item.q.phone || item.q.email) {
        const repeat = recent.get(item.fingerprint);
        if (repeat && repeat.occurredAt.getTime() >= item.at.getTime() - windowMs) {
          noteRequest(recent, item, repeat.leadId);
          return { kind: 'collapsed', leadId: repeat.leadId };
        }
      }
      if (item.q.status === 'new') {
        const keys = identityKeys(item.q.phone, item.q.email);
        const cards = new Set<CardCandidate>();
        for (const key of keys) {
          for (const c of contactsByKey.get(key) ?? []) cards.add({ kind: 'contact', ...c });
          for (const c of leadsByKey.get(key) ?? []) cards.add(c);
        }
        const match = matchCard({ phone: item.q.phone, email: item.q.email }, [...cards]);
        if (match) {
          const leadId =
            match.card.kind === 'lead' ? match.card.id : (contactLeads.get(match.card.id) ?? null);
          if (leadId) noteRequest(recent, item, leadId);
          return { kind: 'attached', card: match.card, leadId };
        }
      }
      const card: CardCandidate = {
        kind: 'lead',
        id: randomUUID(),
        phones: item.q.phone ? [item.q.phone] : [],
        emails: item.q.email ? [item.q.email] : [],
        open: item.q.status === 'new',
        createdAt: item.at,
        responsibleManagerId: null,
      };
      if (card.open) indexLead(card);
      noteRequest(recent, item, card.id);
      return { kind: 'created', card, rule: null };
    });

    await this.assign(em, items, plans, settings, now);
    await this.write(em, items, plans, settings);

    return plans.map((plan, i): IntakeOutcome => {
      switch (plan.kind) {
        case 'collapsed':
          return { outcome: 'collapsed', leadId: plan.leadId };
        case 'attached':
          return {
            outcome: 'attached',
            leadId: plan.leadId,
            contactId: plan.card.kind === 'contact' ? plan.card.id : null,
            managerId: plan.card.responsibleManagerId,
          };
        case 'created':
          return {
            outcome: 'created',
            leadId: plan.card.id,
            status: items[i].q.status,
            managerId: plan.card.responsibleManagerId,
            rule: plan.rule,
          };
      }
    });
  }

  private prepare({ req, source, qualification }: LeadSubmission, settings: LeadIntakeSettings): Prepared {
    const q =
      qualification ?? qualify(req, settings.defaultRegion, settings.disposableDomains ?? DISPOSABLE_DOMAINS);
    const at = new Date(req.occurredAt);
    const sourceChannel = `website:${source.peerId}`;
    const fingerprint = requestFingerprint({
      phone: q.phone,
      email: q.email,
      formId: req.formId,
      message: req.message,
    });
    const request: LeadActivity = {
      kind: 'request',
      summary: `${req.kind} request${req.formName ? ` (${req.formName})` : ''}`,
      details: {
        fingerprint,
        kind: req.kind,
        formId: req.formId ?? null,
        message: req.message ?? null,
        peerId: source.peerId,
        qualification: q.status,
        reason: q.reason,
      },
      actor: sourceChannel,
      refId: source.eventId,
      occurredAt: at,
    };
    return { req, source, q, at, sourceChannel, fingerprint, request };
  }

  /** The batch's new qualified leads, assigned in order (CardAssigner). */
  private async assign(
    em: EntityManager,
    items: Prepared[],
    plans: Plan[],
    settings: LeadIntakeSettings,
    now: Date,
  ): Promise<void> {
    const fresh = plans.flatMap((plan, i) =>
      plan.kind === 'created' && items[i].q.status === 'new' ? [{ plan, item: items[i] }] : [],
    );
    const decisions = await this.assigner.assignMany(
      em,
      fresh.map(({ item }) => ({
        source: item.sourceChannel,
        peerId: item.source.peerId,
        formId: item.req.formId,
        phone: item.q.phone,
        now,
      })),
      settings.assignmentRules,
    );
    fresh.forEach(({ plan }, k) => {
      plan.card.responsibleManagerId = decisions[k].managerId;
      plan.rule = decisions[k].rule;
    });
  }

  /** Leads, then their history, then tasks: one statement each, rows in request order. */
  private async write(
    em: EntityManager,
    items: Prepared[],
    plans: Plan[],
    settings: LeadIntakeSettings,
  ): Promise<void> {
    const leads: Array<NewLead & { id: string }> = [];
    const activities: Array<LeadActivity & { leadId: string }> = [];
    const tasks: NewTask[] = [];
    const callbackPhones = await this.tasks.openCallbackPhones(em, [
      ...new Set(items.flatMap((i) => (i.req.kind === 'callback' && i.q.phone ? [i.q.phone] : []))),
    ]);
    // At most one open call-back per phone (the missed-call tasks share the table and the unique index).
    const callback = (
      item: Prepared,
      leadId: string | null,
      contactId: string | null,
      managerId: string | null,
    ) => {
      const phone = item.q.phone;
      if (item.req.kind !== 'callback' || !phone || callbackPhones.has(phone)) return;
      callbackPhones.add(phone);
      tasks.push({
        kind: 'call_back',
        title: `Call back ${item.req.name?.trim() || phone}`,
        dueAt: new Date(item.at.getTime() + settings.callbackDueMinutes * 60_000),
        responsibleManagerId: managerId,
        leadId,
        contactId,
        phone,
      });
    };
    plans.forEach((plan, i) => {
      const item = items[i];
      const { req, q, at } = item;
      switch (plan.kind) {
        case 'collapsed':
          activities.push({
            ...item.request,
            summary: `${item.request.summary}, repeated`,
            leadId: plan.leadId,
          });
          return;
        case 'attached': {
          if (plan.leadId) activities.push({ ...item.request, leadId: plan.leadId });
          const contactId = plan.card.kind === 'contact' ? plan.card.id : null;
          if (q.status === 'new') callback(item, plan.leadId, contactId, plan.card.responsibleManagerId);
          return;
        }
        case 'created': {
          const leadId = plan.card.id;
          const managerId = plan.card.responsibleManagerId;
          const name = req.name?.trim() || null;
          leads.push({
            id: leadId,
            name,
            phone: q.phone,
            email: q.email,
            sourceChannel: item.sourceChannel,
            kind: req.kind,
            formId: req.formId ?? null,
            formName: req.formName ?? null,
            message: req.message ?? null,
            consents: req.consents ?? null,
            pageUrl: req.pageUrl ?? null,
            referrer: req.referrer ?? null,
            utmSource: req.utm?.source ?? null,
            utmMedium: req.utm?.medium ?? null,
            utmCampaign: req.utm?.campaign ?? null,
            utmTerm: req.utm?.term ?? null,
            utmContent: req.utm?.content ?? null,
            analyticsClientId: req.analyticsClientId ?? null,
            siteCustomerId: req.siteCustomerId ?? null,
            status: q.status,
            statusReason: q.reason,
            responsibleManagerId: managerId,
            assignmentRule: plan.rule,
            peerId: item.source.peerId,
            createdAt: at,
          });
          activities.push({ ...item.request, leadId });
          activities.push({
            leadId,
            kind: 'status',
            summary: q.reason ? `${q.status} (${q.reason})` : q.status,
            details: { status: q.status, reason: q.reason },
            actor: 'qualification',
            refId: null,
            occurredAt: at,
          });
          if (q.status !== 'new') return;
          activities.push({
            leadId,
            kind: 'assignment',
            summary: managerId ? `assigned by rule ${plan.rule}` : 'unassigned: nobody on duty',
            details: { managerId, rule: plan.rule },
            actor: 'assignment',
            refId: null,
            occurredAt: at,
          });
          const due =
            settings.firstContactDueMinutes[item.sourceChannel] ??
            settings.firstContactDueMinutes.website ??
            settings.firstContactDueMinutes.default ??
            15;
          tasks.push({
            kind: 'call_lead',
            title: `First contact: ${name ?? q.phone ?? q.email}`,
            dueAt: new Date(at.getTime() + due * 60_000),
            responsibleManagerId: managerId,
            leadId,
            phone: null,
          });
          callback(item, leadId, null, managerId);
          return;
        }
      }
    });
    await this.leads.insertMany(em, leads);
    await this.leads.addActivities(em, activities);
    await this.tasks.createMany(em, tasks);
  }
}

/** A request just added to a lead's history: a later repeat of it in the same batch collapses into that lead. */
function noteRequest(
  recent: Map<string, { leadId: string; occurredAt: Date }>,
  item: Prepared,
  leadId: string,
): void {
  if (!item.q.phone && !item.q.email) return;
  const known = recent.get(item.fingerprint);
  if (!known || known.occurredAt.getTime() <= item.at.getTime())
    recent.set(item.fingerprint, { leadId, occurredAt: item.at });
}
