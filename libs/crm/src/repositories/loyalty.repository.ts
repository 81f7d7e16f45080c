import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import {
  discountDiffers,
  DiscountSource,
  effectiveDiscount,
  LoyaltySettings,
  ManualDiscount,
  tierFor,
  windowStart,
} from '../rules/loyalty';
import { contactKey, CrmChange, CrmChangesRepository } from './changes.repository';

/**
 * A deal counts towards the spend when it is paid (paid_at set) within the window, in the loyalty currency, not
 * a test order, and not refunded or cancelled: a refunded deal is excluded as a whole (the site and the ERP
 * report refunds as a status, not as an amount, so there is no partial refund to subtract).
 */
export const SPEND_EXCLUDED_STATUSES = ['refunded', 'cancelled'];

/** Site accounts of contacts, as the payload of a contact change names them (the site finds its own id). */
export type SiteAccountRef = { peerId: string; siteCustomerId: string };

interface StateRow {
  id: string;
  discount: string | null;
  discount_source: DiscountSource | null;
  manual_discount: string | null;
  manual_discount_expires_at: Date | null;
  loyalty_spend: string;
  loyalty_tier: string | null;
}

export interface LoyaltyRecomputed {
  /** Contacts whose effective discount changed (one crm.contact.discount_changed each). */
  changed: number;
  /** Contacts locked elsewhere and skipped (only with skipLocked). */
  skipped: number;
}

/**
 * The loyalty state of contacts and the crm.contact.discount_changed it produces: all its SQL. A recompute is a
 * fixed number of statements for any number of contacts (lock + read state, spend, write, outbox), run in the
 * caller's transaction, so the change and its outbox row commit together with whatever caused it.
 */
@Injectable()
export class LoyaltyRepository {
  constructor(private readonly changes: CrmChangesRepository) {}

  /**
   * Recomputes spend, tier and effective discount of these contacts at `now`, and records ONE
   * crm.contact.discount_changed per contact whose effective discount (percent or source) changed. The
   * contacts are locked first (in id order) so that two transactions recomputing one contact serialize and the
   * second sees the first's result. `skipLocked` (the periodic job) leaves contacts another transaction holds:
   * that transaction recomputes them itself.
   */
  async recompute(
    em: EntityManager,
    contactIds: readonly string[],
    settings: LoyaltySettings,
    now: Date,
    { skipLocked = false } = {},
  ): Promise<LoyaltyRecomputed> {
    const ids = [...new Set(contactIds)].sort();
    if (ids.length === 0) return { changed: 0, skipped: 0 };
    const state: StateRow[] = await em.query(
      `SELECT id, discount, discount_source, manual_discount, manual_discount_expires_at, loyalty_spend, loyalty_tier
         FROM contacts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''}`,
      [ids],
    );
    if (state.length === 0) return { changed: 0, skipped: skipLocked ? ids.length : 0 };
    const spendRows: Array<{ contact_id: string; spend: string }> = await em.query(
      `SELECT contact_id, sum(amount) AS spend FROM deals
        WHERE contact_id = ANY($1::uuid[]) AND paid_at IS NOT NULL AND paid_at > $2
          AND currency = $3 AND NOT test AND status <> ALL($4::text[])
        GROUP BY contact_id`,
      [
        state.map((s) => s.id),
        windowStart(now, settings.windowDays),
        settings.currency,
        SPEND_EXCLUDED_STATUSES,
      ],
    );
    const spendOf = new Map(spendRows.map((r) => [r.contact_id, Number(r.spend)]));

    const writes: Array<{
      id: string;
      spend: number;
      tier: string | null;
      percent: number | null;
      source: string | null;
    }> = [];
    const outbox: Array<{
      id: string;
      before: Snapshot;
      after: Snapshot;
      spend: number;
      tier: string | null;
    }> = [];
    for (const s of state) {
      const spend = spendOf.get(s.id) ?? 0;
      const tier = tierFor(spend, settings.tiers);
      const manual: ManualDiscount | null =
        s.manual_discount === null
          ? null
          : { percent: Number(s.manual_discount), expiresAt: s.manual_discount_expires_at };
      const after = effectiveDiscount(tier, manual, now);
      const before = { percent: s.discount === null ? 0 : Number(s.discount), source: s.discount_source };
      const discountChanged = discountDiffers(before, after);
      if (!discountChanged && Number(s.loyalty_spend) === spend && s.loyalty_tier === (tier?.name ?? null))
        continue;
      writes.push({
        id: s.id,
        spend,
        tier: tier?.name ?? null,
        percent: after.source === null ? null : after.percent,
        source: after.source,
      });
      if (discountChanged)
        outbox.push({ id: s.id, before, after: { ...after }, spend, tier: tier?.name ?? null });
    }
    if (writes.length > 0) {
      await em.query(
        `UPDATE contacts c SET loyalty_spend = w.spend, loyalty_tier = w.tier, loyalty_computed_at = $6,
                discount_changed_at = CASE WHEN (c.discount, c.discount_source) IS DISTINCT FROM (w.percent, w.source)
                                           THEN $6 ELSE c.discount_changed_at END,
                discount = w.percent, discount_source = w.source, updated_at = now()
           FROM unnest($1::uuid[], $2::numeric[], $3::text[], $4::numeric[], $5::text[]) AS w(id, spend, tier, percent, source)
          WHERE c.id = w.id`,
        [
          writes.map((w) => w.id),
          writes.map((w) => w.spend),
          writes.map((w) => w.tier),
          writes.map((w) => w.percent),
          writes.map((w) => w.source),
          now,
        ],
      );
    }
    if (outbox.length > 0) {
      const accounts = await this.siteAccounts(
        em,
        outbox.map((o) => o.id),
      );
      await this.changes.record(
        em,
        outbox.map((o): CrmChange => ({
          type: 'crm.contact.discount_changed',
          aggregateKey: contactKey(o.id),
          contactId: o.id,
          payload: {
            contactId: o.id,
            siteAccounts: accounts.get(o.id) ?? [],
            discount: {
              percent: o.after.percent,
              source: o.after.source,
              expiresAt: o.after.expiresAt?.toISOString() ?? null,
            },
            previous: { percent: o.before.percent, source: o.before.source },
            loyalty: { spend: o.spend, currency: settings.currency, tier: o.tier },
          },
          occurredAt: now,
        })),
      );
    }
    return { changed: outbox.length, skipped: ids.length - state.length };
  }

  /**
   * Sets (percent) or clears (null) a contact's manual discount and recomputes it. False when no such contact.
   */
  async setManual(
    em: EntityManager,
    contactId: string,
    manual: (ManualDiscount & { setBy: string }) | null,
    settings: LoyaltySettings,
    now: Date,
  ): Promise<boolean> {
    // typeorm answers an UPDATE with [rows, affected].
    const [, affected]: [unknown[], number] = await em.query(
      `UPDATE contacts SET manual_discount = $2, manual_discount_expires_at = $3, manual_discount_set_by = $4,
              updated_at = now()
        WHERE id = $1`,
      [contactId, manual?.percent ?? null, manual?.expiresAt ?? null, manual?.setBy ?? null],
    );
    if (affected === 0) return false;
    await this.recompute(em, [contactId], settings, now);
    return true;
  }

  /**
   * Contacts the periodic recompute must look at, after `afterId` in id order: whoever has a spend, a tier, a
   * discount or a manual discount now, or a paid deal within the window (whose spend may have changed since).
   */
  async candidates(
    em: EntityManager,
    afterId: string | null,
    limit: number,
    settings: LoyaltySettings,
    now: Date,
  ): Promise<string[]> {
    const rows: Array<{ id: string }> = await em.query(
      `SELECT c.id FROM contacts c
        WHERE ($1::uuid IS NULL OR c.id > $1)
          AND (c.loyalty_spend > 0 OR c.loyalty_tier IS NOT NULL OR c.discount IS NOT NULL
               OR c.manual_discount IS NOT NULL
               OR EXISTS (SELECT 1 FROM deals d WHERE d.contact_id = c.id AND d.paid_at > $2))
        ORDER BY c.id LIMIT $3`,
      [afterId, windowStart(now, settings.windowDays), limit],
    );
    return rows.map((r) => r.id);
  }

  /** The site accounts linked to each contact. */
  async siteAccounts(
    em: EntityManager,
    contactIds: readonly string[],
  ): Promise<Map<string, SiteAccountRef[]>> {
    const rows: Array<{ contact_id: string; peer_id: string; site_customer_id: string }> = await em.query(
      `SELECT contact_id, peer_id, site_customer_id FROM contact_site_accounts
        WHERE contact_id = ANY($1::uuid[]) ORDER BY contact_id, peer_id, site_customer_id`,
      [contactIds],
    );
    const out = new Map<string, SiteAccountRef[]>();
    for (const r of rows) {
      const list = out.get(r.contact_id) ?? [];
      list.push({ peerId: r.peer_id, siteCustomerId: r.site_customer_id });
      out.set(r.contact_id, list);
    }
    return out;
  }
}

type Snapshot = { percent: number; source: DiscountSource | null; expiresAt?: Date | null };
