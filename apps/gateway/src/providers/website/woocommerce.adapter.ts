import { EventType, ORDER_STATUSES, type OrderStatus } from '@switchboard/contracts';
import { isWooCommercePing, verifyWooCommerce } from '@switchboard/peer-auth';
import type { AdaptedEvent, HandshakeReply, ProviderAdapter, ProviderRequest } from '../provider-adapter';
import {
  compact,
  exactId,
  firstText,
  headerValue,
  isRecord,
  joinText,
  list,
  parseMoney,
  positiveInt,
  record,
  requireObject,
  roundMoney,
  text,
  utcTimestamp,
  utmObject,
  violation,
  type Json,
} from './order-mapping';

/**
 * WooCommerce order webhooks (`X-WC-Webhook-Topic: order.*`). The body is the REST API v3 order resource
 * (`GET /wp-json/wc/v3/orders/<id>`); see test/fixtures/providers/website/SOURCE.md.
 */

const TOPIC_HEADER = 'x-wc-webhook-topic';

/** Topics whose body is a full order. `order.restored` (untrashed) brings the order back as it was. */
const ORDER_TOPICS = new Set(['order.created', 'order.updated', 'order.restored']);
/**
 * Order topics we understand but cannot record: `order.deleted` carries only `{ id }` and the contract has no
 * deletion. Answering 2xx matters: WooCommerce disables a webhook after 5 consecutive failed deliveries.
 */
const UNRECORDED_TOPICS = new Set(['order.deleted']);

export const WOO_STATUS: Readonly<Record<string, OrderStatus>> = {
  pending: 'pending',
  processing: 'processing',
  'on-hold': 'on_hold',
  completed: 'completed',
  cancelled: 'cancelled',
  refunded: 'refunded',
  failed: 'failed',
};

/**
 * Not (yet) orders a customer placed: the block checkout saves its cart as `checkout-draft` while the buyer is
 * still typing, admin screens create `auto-draft`, and `trash` is a deleted order. The placed order arrives as
 * `order.updated` with a real status, so these are acknowledged and skipped instead of creating phantom deals.
 */
const NOT_PLACED = new Set(['checkout-draft', 'auto-draft', 'trash']);

const ORDER_STATUS_SET: ReadonlySet<string> = new Set(ORDER_STATUSES);

/**
 * Our status for a WooCommerce status. Plugins register custom statuses; one that already names a contract
 * status (`shipped`, `delivered`, ...) is taken as is, any other is refused so it is noticed and mapped.
 */
export function wooStatus(status: string): OrderStatus {
  const mapped = WOO_STATUS[status];
  if (mapped) return mapped;
  const normalized = status.replace(/-/g, '_');
  if (ORDER_STATUS_SET.has(normalized)) return normalized as OrderStatus;
  throw violation(
    'status',
    'isKnownStatus',
    `unknown WooCommerce order status "${status}"; known: ${Object.keys(WOO_STATUS).join(', ')}`,
  );
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  ndash: '\u2013',
  mdash: '\u2014',
  hellip: '\u2026',
  laquo: '\u00ab',
  raquo: '\u00bb',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  times: '\u00d7',
};

/**
 * WordPress stores product names HTML-escaped and builds variation names with ` &ndash; `; the CRM shows plain
 * text. One pass, so an escaped ampersand (`&amp;ndash;`) stays literal text. Unknown names are kept verbatim.
 */
export function decodeEntities(value: string): string {
  return value.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]+);/gi, (whole, ref: string) => {
    if (!ref.startsWith('#')) return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    // U+0000 and surrogates are not characters; leave such references as written.
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
      ? String.fromCodePoint(code)
      : whole;
  });
}

/** `first last`, else the company: a B2B order may have no person's name. */
const personName = (address: Json): string | undefined =>
  joinText([address.first_name, address.last_name], ' ') ?? text(address.company);

export function wooCustomer(order: Json): Json {
  const billing = record(order.billing);
  const shipping = record(order.shipping);
  const customer = compact({
    name: personName(billing) ?? personName(shipping),
    // `shipping.phone` exists since WooCommerce 5.6; billing stays first as the checkout's contact field.
    phone: firstText(billing.phone, shipping.phone),
    email: text(billing.email),
  });
  if (customer.phone === undefined && customer.email === undefined) {
    throw violation(
      'billing',
      'hasContact',
      'billing.phone and billing.email are both empty; an order needs a phone or an email to find its customer',
    );
  }
  return customer;
}

const postalAddress = (address: Json): string | undefined =>
  joinText(
    [address.address_1, address.address_2, address.city, address.state, address.postcode, address.country],
    ', ',
  );

/** Shipping address; billing when nothing is shipped (virtual goods, local pickup) so the CRM still has one. */
export const wooDeliveryAddress = (order: Json): string | undefined =>
  postalAddress(record(order.shipping)) ?? postalAddress(record(order.billing));

/**
 * One contract item per `line_items` entry (fees and shipping lines are not goods). `price` is the unit price
 * after discounts, excluding tax, as WooCommerce's own `price` field; it is recomputed from the exact `total`
 * string because the float `price` can carry 15 digits.
 */
export function wooItems(order: Json): Json[] {
  return list(order.line_items).map((raw, i) => {
    const field = `line_items.${i}`;
    const line = record(raw);
    const quantity = positiveInt(line.quantity, `${field}.quantity`);
    const price =
      line.total === undefined
        ? parseMoney(line.price, `${field}.price`)
        : parseMoney(line.total, `${field}.total`) / quantity;
    const name = text(line.name);
    return compact({
      // SKU is optional in WooCommerce; the variation (the purchasable thing) or product id still identifies it.
      sku: text(line.sku) ?? exactId(line.variation_id) ?? exactId(line.product_id),
      name: name === undefined ? undefined : decodeEntities(name),
      quantity,
      price: roundMoney(price),
    });
  });
}

/** WooCommerce 8.5+ order attribution, exposed in `meta_data` as `_wc_order_attribution_utm_*`. */
export function wooUtm(order: Json): Json | undefined {
  const meta = new Map<string, unknown>();
  for (const entry of list(order.meta_data)) {
    if (isRecord(entry) && typeof entry.key === 'string') meta.set(entry.key, entry.value);
  }
  return utmObject((key) => meta.get(`_wc_order_attribution_utm_${key}`));
}

export function wooOrderId(order: Json): string {
  const id = exactId(order.id);
  if (id === undefined) throw violation('id', 'isOrderId', 'must be the positive integer id of the order');
  return id;
}

/** The OrderSubmittedV1 payload for a WooCommerce order resource. */
export function mapWooOrder(order: Json, status: OrderStatus): Json {
  const createdAt = utcTimestamp(order.date_created_gmt, 'date_created_gmt', 'utc');
  if (createdAt === undefined)
    throw violation('date_created_gmt', 'isDefined', 'the order has no creation time');
  return compact({
    externalId: wooOrderId(order),
    status,
    createdAt,
    updatedAt: utcTimestamp(order.date_modified_gmt, 'date_modified_gmt', 'utc'),
    paidAt: utcTimestamp(order.date_paid_gmt, 'date_paid_gmt', 'utc'),
    customer: wooCustomer(order),
    deliveryAddress: wooDeliveryAddress(order),
    items: wooItems(order),
    total: parseMoney(order.total, 'total'),
    currency: text(order.currency),
    utm: wooUtm(order),
  });
}

/** The provider's identity of this order state: a redelivery or a created+updated pair collapses to one. */
export function wooIdempotencyKey(order: Json, rawStatus: string): string {
  const modified = text(order.date_modified_gmt) ?? text(order.date_created_gmt) ?? '';
  return `woocommerce:order:${wooOrderId(order)}@${modified}:${rawStatus}`;
}

function wooTopic(req: ProviderRequest): 'order' | 'skip' {
  const topic = headerValue(req, TOPIC_HEADER);
  if (topic !== undefined && ORDER_TOPICS.has(topic)) return 'order';
  if (topic !== undefined && UNRECORDED_TOPICS.has(topic)) return 'skip';
  // A product/customer/coupon/action webhook pointed at this endpoint is a misconfiguration worth failing loudly.
  throw violation(
    TOPIC_HEADER,
    'isOrderTopic',
    topic === undefined
      ? 'header missing; WooCommerce sends it with every webhook delivery'
      : `topic "${topic}" is not an order topic; this endpoint accepts ${[...ORDER_TOPICS].join(', ')}`,
  );
}

const PING_REPLY: HandshakeReply = { status: 200, contentType: 'text/plain; charset=utf-8', body: '' };

export const wooCommerceAdapter: ProviderAdapter = {
  provider: 'woocommerce',

  verify: (req, secret) => verifyWooCommerce(req, secret),

  // Saving a webhook in WooCommerce sends an unsigned `webhook_id=<n>`; anything but 200 blocks activation.
  handshake: (req) => (isWooCommercePing(req) ? PING_REPLY : null),

  toEvents(req): AdaptedEvent[] {
    if (wooTopic(req) === 'skip') return [];
    const order = requireObject(req.body);
    const rawStatus = text(order.status);
    if (rawStatus === undefined) throw violation('status', 'isDefined', 'the order has no status');
    if (NOT_PLACED.has(rawStatus)) return [];
    return [
      {
        type: EventType.WebsiteOrderSubmitted,
        payload: mapWooOrder(order, wooStatus(rawStatus)),
        idempotencyKey: wooIdempotencyKey(order, rawStatus),
      },
    ];
  },
};
