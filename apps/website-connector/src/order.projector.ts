import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import {
  DomainError,
  ErrorCode,
  EventEnvelope,
  OrderSubmittedV1,
  validateContract,
} from '@switchboard/contracts';
import {
  CardAssigner,
  ContactCandidate,
  ContactsRepository,
  LoyaltyRepository,
  DealStatusChanges,
  MatchedContact,
  normalizeEmail,
  normalizePhone,
  ProductRepository,
  rounds,
  preparedQuery,
} from '@switchboard/crm';
import { BatchingInbox, BatchItem } from '@switchboard/database';
import { EntityManager } from 'typeorm';
import { CLOCK, Clock } from './clock';
import { FaultInjector } from './fault-injector';

/** Statuses that change what counts towards the loyalty spend (with any order carrying paidAt). */
const LOYALTY_STATUSES: ReadonlySet<string> = new Set(['paid', 'refunded', 'cancelled']);

export const CONSUMER = 'website-connector';

export type OrderOutcome = 'created' | 'updated' | 'stale' | 'duplicate';

interface OrderItem {
  order: OrderSubmittedV1;
  customer: ContactCandidate;
}

type Item = Pick<BatchItem<{ outcome: OrderOutcome }, OrderItem>, 'envelope'> & { data: OrderItem };

/**
 * Upserts each order's deal and inserts the items of the deals it created, one statement for a whole round of
 * distinct orders. Returns the deals written (a stale version writes none); an updated deal's items are replaced
 * by REPLACE_ITEMS.
 */
const UPSERT_DEALS = `
WITH inp AS (
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::numeric[], $7::text[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[],
                       $14::timestamptz[], $15::uuid[], $16::uuid[], $23::text[], $24::text[], $25::boolean[])
    AS x(idx, peer_id, external_id, contact_id, status, amount, currency, delivery_address, utm_source, utm_medium,
         utm_campaign, created_at, version, paid_at, manager_id, event_id, utm_term, utm_content, test)),
d AS (
  INSERT INTO deals (peer_id, external_id, contact_id, title, status, amount, currency, delivery_address,
                     utm_source, utm_medium, utm_campaign, utm_term, utm_content, test, source_created_at,
                     source_updated_at, paid_at, paid_at_version, responsible_manager_id, last_event_id)
  SELECT peer_id, external_id, contact_id, 'Order ' || external_id, status, amount, currency, delivery_address,
         utm_source, utm_medium, utm_campaign, utm_term, utm_content, test, created_at, version, paid_at,
         CASE WHEN paid_at IS NOT NULL THEN version END, manager_id, event_id
    FROM inp ORDER BY idx
  ON CONFLICT (peer_id, external_id) DO UPDATE SET
    status = EXCLUDED.status, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
    delivery_address = EXCLUDED.delivery_address, utm_source = EXCLUDED.utm_source,
    utm_medium = EXCLUDED.utm_medium, utm_campaign = EXCLUDED.utm_campaign, utm_term = EXCLUDED.utm_term,
    utm_content = EXCLUDED.utm_content, test = EXCLUDED.test,
    source_updated_at = EXCLUDED.source_updated_at,
    paid_at = COALESCE(EXCLUDED.paid_at, deals.paid_at),
    paid_at_version = COALESCE(EXCLUDED.paid_at_version, deals.paid_at_version),
    last_event_id = EXCLUDED.last_event_id, updated_at = now()
  WHERE deals.source_updated_at < EXCLUDED.source_updated_at
  RETURNING id, peer_id, external_id, (xmax = 0) AS inserted),
-- The statement's snapshot: each existing deal's status before this write (for crm.deal.status_changed).
prev AS (SELECT dl.id, dl.status FROM deals dl JOIN inp ON dl.peer_id = inp.peer_id AND dl.external_id = inp.external_id),
written AS (SELECT inp.idx, d.id, d.inserted FROM d JOIN inp USING (peer_id, external_id)),
new_items AS (
  INSERT INTO deal_items (deal_id, position, sku, name, quantity, price)
  SELECT w.id, t.pos, t.sku, t.name, t.qty, t.price
    FROM unnest($17::int[], $18::int[], $19::text[], $20::text[], $21::int[], $22::numeric[])
      AS t(idx, pos, sku, name, qty, price)
    JOIN written w USING (idx) WHERE w.inserted)
SELECT w.idx, w.inserted, w.id, prev.status AS previous_status FROM written w LEFT JOIN prev ON prev.id = w.id`;

/**
 * The items of updated deals: the old ones deleted, the new ones inserted. Its own statement, run only when a
 * round updated a deal. Inside UPSERT_DEALS, the DELETE ran for every round, and whether it probed deal_items's
 * index or scanned the whole table was left to the statistics: the named statement's generic plan, made while
 * the table was small, scanned all of it for every batch of new orders (1.8 ms a batch at 40,000 items, and
 * growing until the next ANALYZE). The DELETE runs on the statement's snapshot, so it removes only the previous
 * versions' items, never the ones inserted beside them.
 */
const REPLACE_ITEMS = `
WITH old AS (DELETE FROM deal_items WHERE deal_id = ANY ($1::uuid[]))
INSERT INTO deal_items (deal_id, position, sku, name, quantity, price)
SELECT * FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::int[], $7::numeric[])`;

/**
 * A new order from an open lead's phone or email converts that lead: linked to the order's contact and deal,
 * with the order in its history (one activity per deal, so a redelivery adds nothing).
 */
const CONVERT_LEADS = `
WITH x AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])
    AS x(phone, email, contact_id, deal_id, external_id, peer_id)),
hit AS (
  SELECT DISTINCT ON (l.id) l.id, x.contact_id, x.deal_id, x.external_id, x.peer_id
    FROM x JOIN leads l ON l.status IN ('new', 'in_progress')
     AND ((x.phone IS NOT NULL AND l.phone = x.phone) OR (x.email IS NOT NULL AND l.email = x.email))
   ORDER BY l.id),
converted AS (
  UPDATE leads l SET status = 'converted', converted_contact_id = hit.contact_id, converted_deal_id = hit.deal_id,
         closed_at = now(), updated_at = now()
    FROM hit WHERE l.id = hit.id RETURNING l.id)
INSERT INTO lead_activities (lead_id, kind, summary, details, actor, ref_id)
SELECT id, 'order', 'order ' || external_id || ': converted',
       jsonb_build_object('dealId', deal_id, 'contactId', contact_id, 'externalId', external_id), 'website:' || peer_id,
       deal_id::text
  FROM hit
ON CONFLICT (lead_id, kind, ref_id) WHERE ref_id IS NOT NULL DO NOTHING`;

/**
 * website.order.submitted -> contact (found or created) + deal keyed by (peer, externalId). The deal keeps the
 * source's version (updatedAt): a newer version replaces it, an older or equal one changes nothing, so
 * out-of-order and repeated deliveries converge on the same state. A batch of orders is projected set-based
 * (a few statements for the whole batch) with the result of projecting them one by one in order.
 */
/**
 * Batch shape for orders. Every statement of a batch is set-based, so a batch costs about the same number of
 * round trips whatever its size. One batch at a time: concurrent batches of one shop's traffic share customers
 * and their locks, so they mostly queue on each other; while one runs, the next fills up (up to the connector's
 * prefetch).
 */
export const ORDER_BATCHING = { maxBatch: 500, lingerMs: 5, maxConcurrent: 1 };

@Injectable()
export class OrderProjector {
  private readonly logger = new Logger('OrderProjector');

  constructor(
    private readonly inbox: BatchingInbox,
    private readonly contacts: ContactsRepository,
    private readonly config: AppConfig,
    private readonly faults: FaultInjector,
    private readonly loyalty: LoyaltyRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly dealStatus: DealStatusChanges,
    private readonly assigner: CardAssigner,
    private readonly products: ProductRepository,
  ) {
    inbox.configure<{ outcome: OrderOutcome }, OrderItem>(CONSUMER, {
      ...ORDER_BATCHING,
      batchEffects: (em, items) => this.projectBatch(em, items as Item[]),
    });
  }

  async apply(envelope: EventEnvelope): Promise<OrderOutcome> {
    // Re-validate: the broker accepts anything, and a bad payload must dead-letter, not half-apply.
    const order = validateContract(OrderSubmittedV1, envelope.payload);
    const customer = {
      name: order.customer.name,
      phone: normalizePhone(order.customer.phone, this.config.crm.defaultRegion),
      email: normalizeEmail(order.customer.email),
      source: `website:${envelope.peerId}`,
    };
    if (!customer.phone && !customer.email) {
      // The contract saw a phone string, but it is no phone number: a card keyed by nothing would be a
      // duplicate factory, so dead-letter the order visibly instead of guessing.
      throw new UnmatchableCustomer(order.externalId);
    }
    const data: OrderItem = { order, customer };
    const outcome = await this.inbox.submit<{ outcome: OrderOutcome }, OrderItem>(CONSUMER, {
      envelope,
      data,
      // The order's own key too: two versions of one order in concurrent batches then queue, not deadlock.
      lockKeys: [...this.contacts.lockKeys(customer), orderKey(envelope.peerId, order.externalId)],
      // Alone (a failed batch's retry): the same code as a batch of one.
      effects: async (em) => (await this.projectBatch(em, [{ envelope, data }]))[0],
    });
    const result: OrderOutcome = outcome.duplicate ? 'duplicate' : outcome.result.outcome;
    this.logger.debug(`order ${order.externalId}: ${result}`);
    return result;
  }

  /** The effects of a batch of fresh orders (each event once): one outcome per order, in order. */
  async projectBatch(em: EntityManager, items: Item[]): Promise<Array<{ outcome: OrderOutcome }>> {
    // Inside the transaction, so a failing order also exercises batch isolation.
    for (const { data } of items) this.faults.maybeFail(data.order.externalId);
    const contacts = await this.contacts.findOrCreateMany(
      em,
      items.map((i) => ({ ...i.data.customer, peerId: i.envelope.peerId })),
    );
    await this.assignNewCustomers(em, items, contacts);
    const outcomes = new Array<OrderOutcome>(items.length).fill('stale');
    // Two versions of one order in a batch: the later goes in a later statement, as if they came one by one.
    for (const round of rounds(items.map((i) => [orderKey(i.envelope.peerId, i.data.order.externalId)]))) {
      const inRound = round.map((i) => ({ ...items[i], contact: contacts[i] }));
      const lines = inRound.flatMap(({ data }, k) =>
        data.order.items.map((line, pos) => ({ idx: round[k], pos: pos + 1, line })),
      );
      const written: Array<{ idx: number; inserted: boolean; id: string; previous_status: string | null }> =
        await preparedQuery(em, UPSERT_DEALS, [
          round,
          inRound.map((i) => i.envelope.peerId),
          inRound.map((i) => i.data.order.externalId),
          inRound.map((i) => i.contact.id),
          inRound.map((i) => i.data.order.status),
          inRound.map((i) => i.data.order.total),
          inRound.map((i) => i.data.order.currency),
          inRound.map((i) => i.data.order.deliveryAddress ?? null),
          inRound.map((i) => i.data.order.utm?.source ?? null),
          inRound.map((i) => i.data.order.utm?.medium ?? null),
          inRound.map((i) => i.data.order.utm?.campaign ?? null),
          inRound.map((i) => i.data.order.createdAt),
          inRound.map((i) => versionOf(i.data.order)),
          inRound.map((i) => i.data.order.paidAt ?? null),
          inRound.map((i) => i.contact.responsibleManagerId),
          inRound.map((i) => i.envelope.id),
          lines.map((l) => l.idx),
          lines.map((l) => l.pos),
          lines.map((l) => l.line.sku),
          lines.map((l) => l.line.name),
          lines.map((l) => l.line.quantity),
          lines.map((l) => l.line.price),
          inRound.map((i) => i.data.order.utm?.term ?? null),
          inRound.map((i) => i.data.order.utm?.content ?? null),
          inRound.map((i) => i.data.order.test === true),
        ]);
      for (const w of written) outcomes[w.idx] = w.inserted ? 'created' : 'updated';
      const replaced = new Map(written.filter((w) => !w.inserted).map((w) => [w.idx, w.id]));
      if (replaced.size > 0) {
        const newLines = lines.filter((l) => replaced.has(l.idx));
        await preparedQuery(em, REPLACE_ITEMS, [
          [...replaced.values()],
          newLines.map((l) => replaced.get(l.idx)),
          newLines.map((l) => l.pos),
          newLines.map((l) => l.line.sku),
          newLines.map((l) => l.line.name),
          newLines.map((l) => l.line.quantity),
          newLines.map((l) => l.line.price),
        ]);
      }
      // A site order's new status is a deal status change (a new order is not: it has no status to change from).
      await this.dealStatus.record(
        em,
        written
          .filter((w) => !w.inserted && items[w.idx].data.order.status !== w.previous_status)
          .map((w) => ({
            dealId: w.id,
            previousStatus: w.previous_status,
            occurredAt: versionOf(items[w.idx].data.order),
          })),
      );
      const fresh = written.filter((w) => w.inserted && !items[w.idx].data.order.test);
      if (fresh.length > 0) {
        await preparedQuery(em, CONVERT_LEADS, [
          fresh.map((w) => items[w.idx].data.customer.phone ?? null),
          fresh.map((w) => items[w.idx].data.customer.email ?? null),
          fresh.map((w) => contacts[w.idx].id),
          fresh.map((w) => w.id),
          fresh.map((w) => items[w.idx].data.order.externalId),
          fresh.map((w) => items[w.idx].envelope.peerId),
        ]);
      }
      // An older version still knows when the order was paid if no newer version said so.
      const stalePaid = round.filter((i) => outcomes[i] === 'stale' && items[i].data.order.paidAt);
      if (stalePaid.length > 0) {
        await em.query(
          `UPDATE deals d SET paid_at = x.paid_at, paid_at_version = x.version, updated_at = now()
             FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
               AS x(peer_id, external_id, paid_at, version)
            WHERE d.peer_id = x.peer_id AND d.external_id = x.external_id
              AND (d.paid_at_version IS NULL OR d.paid_at_version < x.version)`,
          [
            stalePaid.map((i) => items[i].envelope.peerId),
            stalePaid.map((i) => items[i].data.order.externalId),
            stalePaid.map((i) => items[i].data.order.paidAt),
            stalePaid.map((i) => versionOf(items[i].data.order)),
          ],
        );
      }
    }
    await this.recomputeLoyalty(em, items, contacts, outcomes);
    return outcomes.map((outcome) => ({ outcome }));
  }

  /**
   * A deal paid, refunded or cancelled changes its contact's spend: recompute those contacts (set-based, one
   * crm.contact.discount_changed per contact whose discount changed) in the transaction that marked the deal.
   */
  private async recomputeLoyalty(
    em: EntityManager,
    items: Item[],
    contacts: Array<{ id: string }>,
    outcomes: OrderOutcome[],
  ): Promise<void> {
    const touched = items.flatMap(({ data: { order } }, i) =>
      (outcomes[i] !== 'stale' || order.paidAt) && (order.paidAt || LOYALTY_STATUSES.has(order.status))
        ? [contacts[i].id]
        : [],
    );
    if (touched.length === 0) return;
    const { tiers, currency, windowDays } = this.config.crm.loyalty;
    await this.loyalty.recompute(em, touched, { tiers, currency, windowDays }, this.clock.now());
  }

  /**
   * A new customer's card (and so the order's deal) gets its manager by the assignment rules, as a site request
   * does: source and peer, the order's product groups (its items' SKUs in the ERP catalog, every level of the
   * group path), its total (wholesale threshold), the phone's region; managers' product groups, capacity and
   * hours count. The card was made with a round-robin pick; the same turn is reused, so with no rule deciding
   * otherwise the pick stands and nothing is written. Known customers keep their manager.
   */
  private async assignNewCustomers(
    em: EntityManager,
    items: Item[],
    contacts: MatchedContact[],
  ): Promise<void> {
    const fresh = contacts.flatMap((c, i) => (c.created && c.turn !== undefined ? [i] : []));
    if (fresh.length === 0) return;
    const groups = await this.products.groupsBySku(
      em,
      fresh.flatMap((i) => items[i].data.order.items.map((line) => line.sku)),
    );
    const now = new Date();
    const decisions = await this.assigner.assignMany(
      em,
      fresh.map((i) => {
        const { order, customer } = items[i].data;
        return {
          source: `website:${items[i].envelope.peerId}`,
          peerId: items[i].envelope.peerId,
          productGroups: [...new Set(order.items.flatMap((line) => groups.get(line.sku) ?? []))],
          orderTotal: Number(order.total),
          phone: customer.phone ?? null,
          now,
        };
      }),
      this.config.crm.leads.assignmentRules,
      fresh.map((i) => contacts[i].turn!),
    );
    const changed = fresh.filter((i, k) => decisions[k].managerId !== contacts[i].responsibleManagerId);
    if (changed.length === 0) return;
    const managerOf = new Map(fresh.map((i, k) => [i, decisions[k].managerId]));
    await this.contacts.setResponsible(
      em,
      changed.map((i) => contacts[i].id),
      changed.map((i) => managerOf.get(i)!),
    );
    // One card may be new for several orders of the batch (the same customer): all see its manager.
    for (const i of changed) {
      const id = contacts[i].id;
      contacts.forEach((c, j) => {
        if (c.id === id) contacts[j] = { ...c, responsibleManagerId: managerOf.get(i)! };
      });
    }
  }
}

const orderKey = (peerId: string, externalId: string) => `order:${peerId}:${externalId}`;
const versionOf = (order: OrderSubmittedV1) => order.updatedAt ?? order.createdAt;

export class UnmatchableCustomer extends DomainError {
  constructor(externalId: string) {
    super(
      ErrorCode.VALIDATION_FAILED,
      `order ${externalId}: customer has neither a valid phone nor email`,
      true,
    );
  }
}
