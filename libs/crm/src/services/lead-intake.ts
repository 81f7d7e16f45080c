import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AssignmentContext, AssignmentRule, decideAssignment } from '../rules/assignment';
import { matchCard } from '../rules/dedup';
import { DISPOSABLE_DOMAINS, qualify, requestFingerprint } from '../rules/qualify';
import { ContactsRepository } from '../repositories/contacts.repository';
import { LeadRow, LeadsRepository } from '../repositories/leads.repository';
import { ManagersRepository } from '../repositories/managers.repository';
import { TasksRepository } from '../repositories/tasks.repository';

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

/**
 * One website request into the CRM, inside the caller's transaction, with the person's identity locks already
 * held (identityLockKeys: the same keys contacts and the telephony connector use), so concurrent requests from
 * one new person make one lead. Qualify (kept whatever the outcome) → collapse a repeat → attach to a known
 * contact or open lead (responsible unchanged) → else a new lead, assigned by the rules, with its tasks.
 */
@Injectable()
export class LeadIntake {
  constructor(
    private readonly leads: LeadsRepository,
    private readonly contacts: ContactsRepository,
    private readonly managers: ManagersRepository,
    private readonly tasks: TasksRepository,
  ) {}

  async submit(
    em: EntityManager,
    req: LeadRequest,
    source: { peerId: string; eventId: string },
    settings: LeadIntakeSettings,
    now: Date,
  ): Promise<IntakeOutcome> {
    const q = qualify(req, settings.defaultRegion, settings.disposableDomains ?? DISPOSABLE_DOMAINS);
    const at = new Date(req.occurredAt);
    const sourceChannel = `website:${source.peerId}`;
    const fingerprint = requestFingerprint({
      phone: q.phone,
      email: q.email,
      formId: req.formId,
      message: req.message,
    });
    const requestActivity = {
      kind: 'request' as const,
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

    if (q.phone || q.email) {
      const since = new Date(at.getTime() - settings.repeatWindowMinutes * 60_000);
      const repeat = await this.leads.sameRequestSince(em, fingerprint, since);
      if (repeat) {
        await this.leads.addActivity(em, repeat, {
          ...requestActivity,
          summary: `${requestActivity.summary}, repeated`,
        });
        return { outcome: 'collapsed', leadId: repeat };
      }
    }

    if (q.status === 'new') {
      const contactCards = (await this.contacts.findByIdentity(em, q.phone, q.email)).map((c) => ({
        kind: 'contact' as const,
        ...c,
      }));
      const leadCards = await this.leads.openCards(em, q.phone, q.email);
      const match = matchCard({ phone: q.phone, email: q.email }, [...contactCards, ...leadCards]);
      if (match) {
        const leadId =
          match.card.kind === 'lead' ? match.card.id : await this.leads.openForContact(em, match.card.id);
        if (leadId) await this.leads.addActivity(em, leadId, requestActivity);
        if (req.kind === 'callback')
          await this.callbackTask(
            em,
            req,
            q.phone,
            leadId,
            match.card.kind === 'contact' ? match.card.id : null,
            match.card.responsibleManagerId,
            at,
            settings,
          );
        return {
          outcome: 'attached',
          leadId,
          contactId: match.card.kind === 'contact' ? match.card.id : null,
          managerId: match.card.responsibleManagerId,
        };
      }
    }

    let managerId: string | null = null;
    let rule: string | null = null;
    if (q.status === 'new') {
      const ctx: AssignmentContext = {
        source: sourceChannel,
        peerId: source.peerId,
        formId: req.formId,
        phone: q.phone,
        now,
      };
      const stored = await this.managers.rules(em);
      const rules = stored.length ? stored : (settings.assignmentRules ?? []);
      const managers = await this.managers.list(em);
      // Capacity and least-loaded decisions read the open loads: those are read under the assignment lock, so
      // two concurrent leads cannot both take a manager's last free slot. Round robin alone needs no lock (the
      // turn is a sequence value), so intake without limits does not queue on it.
      const needsLoads =
        managers.some((m) => m.capacity !== null) || rules.some((r) => r.strategy === 'leastLoaded');
      if (needsLoads) await em.query(`SELECT pg_advisory_xact_lock(hashtextextended('crm:assignment', 0))`);
      const decision = decideAssignment(
        rules,
        managers,
        needsLoads ? await this.managers.loads(em) : new Map<string, number>(),
        ctx,
        await this.managers.nextTurn(em),
      );
      managerId = decision.managerId;
      rule = decision.rule;
    }
    const lead = await this.leads.insert(em, {
      name: req.name?.trim() || null,
      phone: q.phone,
      email: q.email,
      sourceChannel,
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
      assignmentRule: rule,
      peerId: source.peerId,
      createdAt: at,
    });
    await this.leads.addActivity(em, lead.id, requestActivity);
    await this.leads.addActivity(em, lead.id, {
      kind: 'status',
      summary: q.reason ? `${q.status} (${q.reason})` : q.status,
      details: { status: q.status, reason: q.reason },
      actor: 'qualification',
      refId: null,
      occurredAt: at,
    });
    if (q.status === 'new') {
      await this.leads.addActivity(em, lead.id, {
        kind: 'assignment',
        summary: managerId ? `assigned by rule ${rule}` : 'unassigned: nobody on duty',
        details: { managerId, rule },
        actor: 'assignment',
        refId: null,
        occurredAt: at,
      });
      const due =
        settings.firstContactDueMinutes[sourceChannel] ??
        settings.firstContactDueMinutes.website ??
        settings.firstContactDueMinutes.default ??
        15;
      await this.tasks.create(em, {
        kind: 'call_lead',
        title: `First contact: ${lead.name ?? lead.phone ?? lead.email}`,
        dueAt: new Date(at.getTime() + due * 60_000),
        responsibleManagerId: managerId,
        leadId: lead.id,
        phone: null,
      });
      if (req.kind === 'callback')
        await this.callbackTask(em, req, q.phone, lead.id, null, managerId, at, settings);
    }
    return { outcome: 'created', leadId: lead.id, status: lead.status, managerId, rule };
  }

  private async callbackTask(
    em: EntityManager,
    req: LeadRequest,
    phone: string | null,
    leadId: string | null,
    contactId: string | null,
    managerId: string | null,
    at: Date,
    settings: LeadIntakeSettings,
  ): Promise<void> {
    if (!phone) return;
    // At most one open call-back per phone (the missed-call tasks share the table and the unique index).
    const open: unknown[] = await em.query(
      `SELECT 1 FROM tasks WHERE kind = 'call_back' AND status = 'open' AND phone = $1`,
      [phone],
    );
    if (open.length) return;
    await this.tasks.create(em, {
      kind: 'call_back',
      title: `Call back ${req.name?.trim() || phone}`,
      dueAt: new Date(at.getTime() + settings.callbackDueMinutes * 60_000),
      responsibleManagerId: managerId,
      leadId,
      contactId,
      phone,
    });
  }
}
