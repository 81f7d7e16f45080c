import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { CardCandidate } from '../rules/dedup';
import { returnedRows } from './rows';
import { preparedQuery } from './prepared-query';

export type LeadStatusValue = 'new' | 'in_progress' | 'unqualified' | 'junk' | 'converted' | 'refused';
export const OPEN_LEAD_STATUSES: LeadStatusValue[] = ['new', 'in_progress'];
export type LeadActivityKind = 'request' | 'call' | 'order' | 'task' | 'status' | 'assignment';

/** One column map for leads: the field name, its column and its SQL type. */
const COLUMNS = [
  ['name', 'name', 'text'],
  ['phone', 'phone', 'text'],
  ['email', 'email', 'text'],
  ['sourceChannel', 'source_channel', 'text'],
  ['kind', 'kind', 'text'],
  ['formId', 'form_id', 'text'],
  ['formName', 'form_name', 'text'],
  ['message', 'message', 'text'],
  ['consents', 'consents', 'jsonb'],
  ['pageUrl', 'page_url', 'text'],
  ['referrer', 'referrer', 'text'],
  ['utmSource', 'utm_source', 'text'],
  ['utmMedium', 'utm_medium', 'text'],
  ['utmCampaign', 'utm_campaign', 'text'],
  ['utmTerm', 'utm_term', 'text'],
  ['utmContent', 'utm_content', 'text'],
  ['analyticsClientId', 'analytics_client_id', 'text'],
  ['siteCustomerId', 'site_customer_id', 'text'],
  ['trackingChannel', 'tracking_channel', 'text'],
  ['status', 'status', 'text'],
  ['statusReason', 'status_reason', 'text'],
  ['refuseReason', 'refuse_reason', 'text'],
  ['responsibleManagerId', 'responsible_manager_id', 'uuid'],
  ['assignmentRule', 'assignment_rule', 'text'],
  ['peerId', 'peer_id', 'text'],
  ['convertedContactId', 'converted_contact_id', 'uuid'],
  ['convertedDealId', 'converted_deal_id', 'uuid'],
  ['firstContactAt', 'first_contact_at', 'timestamptz'],
  ['closedAt', 'closed_at', 'timestamptz'],
  ['createdAt', 'created_at', 'timestamptz'],
  ['updatedAt', 'updated_at', 'timestamptz'],
] as const;

type Field = (typeof COLUMNS)[number][0];
export interface LeadRow {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  sourceChannel: string;
  kind: string | null;
  formId: string | null;
  formName: string | null;
  message: string | null;
  consents: Record<string, unknown> | null;
  pageUrl: string | null;
  referrer: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  analyticsClientId: string | null;
  siteCustomerId: string | null;
  trackingChannel: string | null;
  status: LeadStatusValue;
  statusReason: string | null;
  refuseReason: string | null;
  responsibleManagerId: string | null;
  assignmentRule: string | null;
  peerId: string | null;
  convertedContactId: string | null;
  convertedDealId: string | null;
  firstContactAt: Date | null;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
export type NewLead = Partial<Omit<LeadRow, 'id'>> & { sourceChannel: string };

export interface LeadActivity {
  kind: LeadActivityKind;
  summary: string;
  details: Record<string, unknown>;
  actor: string | null;
  refId: string | null;
  occurredAt: Date;
}

export interface LeadFilter {
  status?: LeadStatusValue;
  managerId?: string;
  source?: string;
  phone?: string;
  email?: string;
  from?: Date;
  to?: Date;
  /** The last (created_at, id) of the previous page. */
  after?: { createdAt: Date; id: string };
  /** A manager operator's view: its own leads and the unassigned new ones it may claim. */
  visibleTo?: string;
  limit: number;
}

/** Whether a manager operator (its managers row) may see a lead: its own, or an unassigned new one to claim. */
export const leadVisibleTo = (lead: Pick<LeadRow, 'responsibleManagerId' | 'status'>, managerId: string) =>
  lead.responsibleManagerId === managerId || (lead.responsibleManagerId === null && lead.status === 'new');

const SELECT_COLUMNS = ['id', ...COLUMNS.map((c) => c[1])].join(', ');
const toLead = (r: Record<string, unknown>): LeadRow => {
  const out: Record<string, unknown> = { id: r.id };
  for (const [field, col] of COLUMNS) out[field] = r[col] ?? null;
  return out as unknown as LeadRow;
};

/** Leads and their history (lead_activities): all their SQL outside the set-based call projector. */
@Injectable()
export class LeadsRepository {
  async insert(em: EntityManager, lead: NewLead): Promise<LeadRow> {
    const cols = COLUMNS.filter(([f]) => lead[f] !== undefined);
    const rows: Array<Record<string, unknown>> = await em.query(
      `INSERT INTO leads (${cols.map((c) => c[1]).join(', ')})
       VALUES (${cols.map((c, i) => `$${i + 1}::${c[2]}`).join(', ')}) RETURNING ${SELECT_COLUMNS}`,
      cols.map(([f, , type]) => {
        const v = lead[f];
        return type === 'jsonb' && v != null ? JSON.stringify(v) : v;
      }),
    );
    return toLead(rows[0]);
  }

  /**
   * Inserts many leads at once, their ids given by the caller (so a batch can refer to them before they exist).
   * Every row sets the same fields: the first row's defined fields are the columns written.
   */
  async insertMany(em: EntityManager, leads: Array<NewLead & { id: string }>): Promise<void> {
    if (leads.length === 0) return;
    const cols = COLUMNS.filter(([f]) => leads[0][f] !== undefined);
    // Not prepared: its text varies with the columns set, and a connection would keep every variant.
    await em.query(
      `INSERT INTO leads (id, ${cols.map((c) => c[1]).join(', ')})
       SELECT * FROM unnest($1::uuid[], ${cols.map((c, i) => `$${i + 2}::${c[2]}[]`).join(', ')})`,
      [
        leads.map((l) => l.id),
        ...cols.map(([f, , type]) =>
          leads.map((l) => {
            const v = l[f] ?? null;
            return type === 'jsonb' && v !== null ? JSON.stringify(v) : v;
          }),
        ),
      ],
    );
  }

  async get(em: EntityManager, id: string, forUpdate = false): Promise<LeadRow | null> {
    const rows: Array<Record<string, unknown>> = await em.query(
      `SELECT ${SELECT_COLUMNS} FROM leads WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ? toLead(rows[0]) : null;
  }

  /** Open leads with this phone or email, as dedup candidates. */
  openCards(em: EntityManager, phone: string | null, email: string | null): Promise<CardCandidate[]> {
    return this.openCardsMany(em, phone ? [phone] : [], email ? [email] : []);
  }

  /** openCards for many phones and emails at once: every open lead holding any of them. */
  async openCardsMany(em: EntityManager, phones: string[], emails: string[]): Promise<CardCandidate[]> {
    if (phones.length === 0 && emails.length === 0) return [];
    // Unnamed on purpose, so planned for each batch with its arrays (a few tenths of a millisecond): a named
    // statement's generic plan assumes ten elements per array, and one made while the table was small (a new
    // installation, the bench) was a scan of every open lead, or of the whole table, with hundreds of phones
    // compared per row (20-100 ms per batch, growing with the table) where the phone and email indexes take
    // about 1 ms.
    const rows: Array<Record<string, unknown>> = await em.query(
      `SELECT id, phone, email, created_at, responsible_manager_id FROM leads
        WHERE status IN ('new', 'in_progress') AND (phone = ANY($1::text[]) OR email = ANY($2::text[]))`,
      [phones, emails],
    );
    return rows.map((r) => ({
      kind: 'lead',
      id: r.id as string,
      phones: r.phone ? [r.phone as string] : [],
      emails: r.email ? [r.email as string] : [],
      open: true,
      createdAt: r.created_at as Date,
      responsibleManagerId: r.responsible_manager_id as string | null,
    }));
  }

  /** openForContact for many contacts: contact id -> its first open lead (contacts without one are left out). */
  async openForContacts(em: EntityManager, contactIds: string[]): Promise<Map<string, string>> {
    if (contactIds.length === 0) return new Map();
    const rows: Array<{ contact_id: string; id: string }> = await preparedQuery(
      em,
      `SELECT DISTINCT ON (converted_contact_id) converted_contact_id AS contact_id, id FROM leads
        WHERE converted_contact_id = ANY($1::uuid[]) AND status IN ('new', 'in_progress')
        ORDER BY converted_contact_id, created_at`,
      [contactIds],
    );
    return new Map(rows.map((r) => [r.contact_id, r.id]));
  }

  /** The open lead converted into (or linked to) this contact, if any. */
  async openForContact(em: EntityManager, contactId: string): Promise<string | null> {
    const rows: Array<{ id: string }> = await em.query(
      `SELECT id FROM leads WHERE converted_contact_id = $1 AND status IN ('new', 'in_progress')
        ORDER BY created_at LIMIT 1`,
      [contactId],
    );
    return rows[0]?.id ?? null;
  }

  async list(em: EntityManager, f: LeadFilter): Promise<LeadRow[]> {
    const rows: Array<Record<string, unknown>> = await em.query(
      `SELECT ${SELECT_COLUMNS} FROM leads
        WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR responsible_manager_id = $2)
          AND ($3::text IS NULL OR source_channel = $3) AND ($4::text IS NULL OR phone = $4)
          AND ($5::text IS NULL OR email = $5) AND ($6::timestamptz IS NULL OR created_at >= $6)
          AND ($7::timestamptz IS NULL OR created_at < $7)
          AND ($8::timestamptz IS NULL OR (created_at, id) < ($8, $9::uuid))
          AND ($11::uuid IS NULL OR responsible_manager_id = $11
               OR (responsible_manager_id IS NULL AND status = 'new'))
        ORDER BY created_at DESC, id DESC LIMIT $10`,
      [
        f.status ?? null,
        f.managerId ?? null,
        f.source ?? null,
        f.phone ?? null,
        f.email ?? null,
        f.from ?? null,
        f.to ?? null,
        f.after?.createdAt ?? null,
        f.after?.id ?? null,
        f.limit,
        f.visibleTo ?? null,
      ],
    );
    return rows.map(toLead);
  }

  /**
   * Changes a lead only when it is in one of `from` (the lifecycle's guard, checked in the same statement so
   * concurrent changes cannot both pass); null when it was not.
   */
  async transition(
    em: EntityManager,
    id: string,
    from: readonly LeadStatusValue[],
    change: Partial<Pick<LeadRow, Field & keyof LeadRow>>,
  ): Promise<LeadRow | null> {
    const cols = COLUMNS.filter(([f]) => change[f] !== undefined);
    const rows: Array<Record<string, unknown>> = returnedRows(
      await em.query(
        `UPDATE leads SET ${[...cols.map((c, i) => `${c[1]} = $${i + 3}::${c[2]}`), 'updated_at = now()'].join(', ')}
        WHERE id = $1 AND status = ANY($2::text[]) RETURNING ${SELECT_COLUMNS}`,
        [id, from, ...cols.map(([f]) => change[f])],
      ),
    );
    return rows[0] ? toLead(rows[0]) : null;
  }

  /** Adds one history entry; one with a refId already on the card adds nothing (redelivery). */
  async addActivity(
    em: EntityManager,
    leadId: string,
    a: Omit<LeadActivity, 'occurredAt'> & { occurredAt?: Date },
  ): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO lead_activities (lead_id, kind, summary, details, actor, ref_id, occurred_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, COALESCE($7, now()))
       ON CONFLICT (lead_id, kind, ref_id) WHERE ref_id IS NOT NULL DO NOTHING RETURNING id`,
      [leadId, a.kind, a.summary, JSON.stringify(a.details), a.actor, a.refId, a.occurredAt ?? null],
    );
    return rows.length > 0;
  }

  /** addActivity for many entries, in the given order (their ids follow it); refIds already on a card add nothing. */
  async addActivities(em: EntityManager, rows: Array<LeadActivity & { leadId: string }>): Promise<void> {
    if (rows.length === 0) return;
    await preparedQuery(
      em,
      `INSERT INTO lead_activities (lead_id, kind, summary, details, actor, ref_id, occurred_at)
       SELECT lead_id, kind, summary, details::jsonb, actor, ref_id, occurred_at
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
              WITH ORDINALITY AS x(lead_id, kind, summary, details, actor, ref_id, occurred_at, i)
        ORDER BY i
       ON CONFLICT (lead_id, kind, ref_id) WHERE ref_id IS NOT NULL DO NOTHING`,
      [
        rows.map((r) => r.leadId),
        rows.map((r) => r.kind),
        rows.map((r) => r.summary),
        rows.map((r) => JSON.stringify(r.details)),
        rows.map((r) => r.actor),
        rows.map((r) => r.refId),
        rows.map((r) => r.occurredAt),
      ],
    );
  }

  async history(em: EntityManager, leadId: string): Promise<LeadActivity[]> {
    const rows: Array<Record<string, unknown>> = await em.query(
      `SELECT kind, summary, details, actor, ref_id, occurred_at FROM lead_activities
        WHERE lead_id = $1 ORDER BY occurred_at, id`,
      [leadId],
    );
    return rows.map((r) => ({
      kind: r.kind as LeadActivityKind,
      summary: r.summary as string,
      details: r.details as Record<string, unknown>,
      actor: r.actor as string | null,
      refId: r.ref_id as string | null,
      occurredAt: r.occurred_at as Date,
    }));
  }

  /** The lead that got the same request (fingerprint) since `since`, if any: a repeat collapses into it. */
  async sameRequestSince(em: EntityManager, fingerprint: string, since: Date): Promise<string | null> {
    const rows: Array<{ lead_id: string }> = await em.query(
      `SELECT lead_id FROM lead_activities
        WHERE kind = 'request' AND details->>'fingerprint' = $1 AND occurred_at >= $2
        ORDER BY occurred_at DESC LIMIT 1`,
      [fingerprint, since],
    );
    return rows[0]?.lead_id ?? null;
  }

  /**
   * sameRequestSince for many requests at once: per fingerprint, the latest request with it since the earliest
   * `since` given for it (a caller with a later `since` compares the time itself).
   */
  async latestRequests(
    em: EntityManager,
    fingerprints: string[],
    since: Date[],
  ): Promise<Map<string, { leadId: string; occurredAt: Date }>> {
    if (fingerprints.length === 0) return new Map();
    const rows: Array<{ f: string; lead_id: string; occurred_at: Date }> = await preparedQuery(
      em,
      `SELECT x.f, a.lead_id, a.occurred_at
         FROM (SELECT f, min(s) AS s FROM unnest($1::text[], $2::timestamptz[]) AS u(f, s) GROUP BY f) x
         CROSS JOIN LATERAL (
           SELECT lead_id, occurred_at FROM lead_activities
            WHERE kind = 'request' AND details->>'fingerprint' = x.f AND occurred_at >= x.s
            ORDER BY occurred_at DESC LIMIT 1) a`,
      [fingerprints, since],
    );
    return new Map(rows.map((r) => [r.f, { leadId: r.lead_id, occurredAt: r.occurred_at }]));
  }
}
