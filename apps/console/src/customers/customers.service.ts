import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { ConflictError, NotFoundError } from '@switchboard/contracts';
import {
  ContactEdit,
  CustomersRepository,
  LoyaltyRepository,
  LoyaltySettings,
  ManualDiscount,
} from '@switchboard/crm';
import { lockAll } from '@switchboard/database';
import { DataSource } from 'typeorm';
import { CLOCK, Clock } from '../leads/clock';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Contact ids are uuids: anything else names no contact (404), never a bad cast (500). */
function mustBeContactId(id: string): void {
  if (!UUID.test(id)) throw new NotFoundError(`No contact ${id}.`);
}

/**
 * Operators' changes to what a contact shares with the site: the card's fields and its manual discount. Each
 * is one transaction that also records the outbox row (crm.contact.updated / crm.contact.discount_changed).
 */
@Injectable()
export class CustomersService {
  constructor(
    private readonly ds: DataSource,
    private readonly customers: CustomersRepository,
    private readonly loyalty: LoyaltyRepository,
    private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  get settings(): LoyaltySettings {
    const { tiers, currency, windowDays } = this.config.crm.loyalty;
    return { tiers, currency, windowDays };
  }

  async edit(id: string, edit: ContactEdit) {
    mustBeContactId(id);
    return this.ds.transaction(async (em) => {
      // The identities it may attach, locked as every find-or-create locks them: no card grabs them meanwhile.
      await lockAll(em, [
        ...(edit.phones ?? []).map((p) => `phone:${p}`),
        ...(edit.emails ?? []).map((e) => `email:${e}`),
      ]);
      const r = await this.customers.edit(em, id, edit, this.clock.now());
      if (r.status === 'not_found') throw new NotFoundError(`No contact ${id}.`);
      if (r.status === 'identity_taken')
        throw new ConflictError(`Another contact already holds ${r.identities.join(', ')}.`);
      return { ...r.contact, changed: r.changed };
    });
  }

  async setDiscount(id: string, manual: ManualDiscount | null, by: string) {
    mustBeContactId(id);
    const now = this.clock.now();
    const found = await this.ds.transaction((em) =>
      this.loyalty.setManual(em, id, manual && { ...manual, setBy: by }, this.settings, now),
    );
    if (!found) throw new NotFoundError(`No contact ${id}.`);
    return this.loyaltyOf(id);
  }

  /** What GET /v1/crm/contacts/:id adds to the card: its loyalty state and the site accounts linked to it. */
  async cardExtras(id: string) {
    const [loyalty, accounts] = await Promise.all([
      this.loyaltyOf(id),
      this.loyalty.siteAccounts(this.ds.manager, [id]),
    ]);
    return { loyalty, siteAccounts: accounts.get(id) ?? [] };
  }

  /** What GET /v1/crm/contacts/:id shows under `loyalty`. */
  async loyaltyOf(id: string) {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT discount, discount_source, discount_changed_at, loyalty_spend, loyalty_tier, loyalty_computed_at,
              manual_discount, manual_discount_expires_at, manual_discount_set_by
         FROM contacts WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r) throw new NotFoundError(`No contact ${id}.`);
    const tier = this.settings.tiers.find((t) => t.name === r.loyalty_tier) ?? null;
    const next = this.settings.tiers.find((t) => t.minSpend > Number(r.loyalty_spend)) ?? null;
    return {
      spend: Number(r.loyalty_spend),
      currency: this.settings.currency,
      windowDays: this.settings.windowDays,
      computedAt: r.loyalty_computed_at,
      tier: tier && { name: tier.name, percent: tier.percent, minSpend: tier.minSpend },
      nextTier: next && { name: next.name, percent: next.percent, minSpend: next.minSpend },
      discount: {
        percent: r.discount === null ? 0 : Number(r.discount),
        source: r.discount_source,
        changedAt: r.discount_changed_at,
      },
      manual:
        r.manual_discount === null
          ? null
          : {
              percent: Number(r.manual_discount),
              expiresAt: r.manual_discount_expires_at,
              setBy: r.manual_discount_set_by,
            },
    };
  }
}
