import { EventType, type OrderStatus } from '@switchboard/contracts';
import { verifyShopify } from '@switchboard/peer-auth';
import type { AdaptedEvent, ProviderAdapter, ProviderRequest } from '../provider-adapter';
import {
  compact,
  exactId,
  firstText,
  headerValue,
  joinText,
  list,
  parseMoney,
  positiveInt,
  record,
  requireObject,
  text,
  utcTimestamp,
  utmObject,
  violation,
  type Json,
} from './order-mapping';

/**
 * Shopify order webhooks (`X-Shopify-Topic: orders/*`). The body is the Admin REST Order resource; see
 * test/fixtures/providers/website/SOURCE.md.
 */

const TOPIC_HEADER = 'x-shopify-topic';

/**
 * Topics whose body is a full Order. One change can fire several of them (create + paid + updated); they share
 * the idempotency key below, so the duplicates collapse.
 */
const ORDER_TOPICS = new Set([
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'orders/fulfilled',
  'orders/partially_fulfilled',
]);
/**
 * Order topics without a full Order body: `orders/delete` is `{ id }` (the contract has no deletion) and
 * `orders/edited` is an `order_edit` that Shopify follows with `orders/updated`. Acknowledged, not recorded:
 * failed deliveries are retried and can get the subscription removed.
 */
const UNRECORDED_TOPICS = new Set(['orders/delete', 'orders/edited']);

/** Payment state when nothing more decisive (cancel, refund, shipment) is known. */
export const SHOPIFY_FINANCIAL_STATUS: Readonly<Record<string, OrderStatus>> = {
  pending: 'pending',
  partially_paid: 'pending',
  // Funds are reserved but not captured: the merchant still has to act, as with WooCommerce's on-hold.
  authorized: 'on_hold',
  paid: 'paid',
  // Partly refunded is still a paid order; a full refund is decisive and handled before this table.
  partially_refunded: 'paid',
  // The authorization lapsed without capture: the payment failed.
  expired: 'failed',
};

/**
 * Shopify has no single order status: it has cancellation, payment and fulfillment states. Precedence: a
 * cancelled, fully refunded or voided order is over whatever else happened; shipping is further along than
 * payment; `closed_at` (archived) on a fulfilled order means done.
 */
export function shopifyStatus(order: Json): OrderStatus {
  const financial = order.financial_status;
  const fulfillment = order.fulfillment_status;
  if (text(order.cancelled_at) !== undefined || financial === 'voided') return 'cancelled';
  if (financial === 'refunded') return 'refunded';
  if (fulfillment === 'fulfilled') return text(order.closed_at) === undefined ? 'shipped' : 'completed';
  if (fulfillment === 'partial') return 'processing';
  // Old orders and draft-order conversions can lack a payment state: a fresh order nobody has touched.
  if (financial === null || financial === undefined) return 'new';
  const mapped = typeof financial === 'string' ? SHOPIFY_FINANCIAL_STATUS[financial] : undefined;
  if (mapped) return mapped;
  throw violation(
    'financial_status',
    'isKnownStatus',
    `unknown Shopify financial_status ${JSON.stringify(financial)}; known: ${[
      ...Object.keys(SHOPIFY_FINANCIAL_STATUS),
      'refunded',
      'voided',
    ].join(', ')}`,
  );
}

const gidId = (value: unknown, type: string): string | undefined => {
  const match = typeof value === 'string' ? new RegExp(`^gid://shopify/${type}/(\\d+)$`).exec(value) : null;
  return match?.[1];
};

/**
 * The order id, exactly. The gateway parses provider JSON losslessly, so `id` arrives as exact text when it is
 * above 2^53 (JSON.parse would turn 820982911946154508 into ...500). `admin_graphql_api_id` and the
 * `X-Shopify-Order-Id` header are the same id as text and serve when `id` is missing or was rounded upstream.
 */
export function shopifyOrderId(order: Json, req: Pick<ProviderRequest, 'headers'>): string {
  const id =
    exactId(order.id) ??
    gidId(order.admin_graphql_api_id, 'Order') ??
    exactId(headerValue(req, 'x-shopify-order-id'));
  if (id === undefined) {
    throw violation(
      'id',
      'isOrderId',
      'the order has no exact id: id is missing, not a positive integer, or was rounded before it reached us, and neither admin_graphql_api_id nor X-Shopify-Order-Id carries it',
    );
  }
  return id;
}

const addressName = (address: Json): string | undefined =>
  text(address.name) ?? joinText([address.first_name, address.last_name], ' ');

export function shopifyCustomer(order: Json): Json {
  const customer = record(order.customer);
  const billing = record(order.billing_address);
  const shipping = record(order.shipping_address);
  const result = compact({
    name:
      joinText([customer.first_name, customer.last_name], ' ') ??
      addressName(billing) ??
      addressName(shipping),
    // The order's own contact fields are what the buyer typed at checkout; the customer record may be older.
    phone: firstText(order.phone, customer.phone, billing.phone, shipping.phone),
    email: firstText(order.email, order.contact_email, customer.email),
  });
  if (result.phone === undefined && result.email === undefined) {
    throw violation(
      'email',
      'hasContact',
      'the order has no email or phone (order, customer, billing_address, shipping_address); one is needed to find its customer',
    );
  }
  return result;
}

const postalAddress = (address: Json): string | undefined =>
  joinText(
    [address.address1, address.address2, address.city, address.province, address.zip, address.country],
    ', ',
  );

export const shopifyDeliveryAddress = (order: Json): string | undefined =>
  postalAddress(record(order.shipping_address)) ?? postalAddress(record(order.billing_address));

/**
 * Line items with the unit price before discounts in the shop currency (Shopify's `price`). Without a SKU the
 * variant, then the product identifies the item; custom items have neither, so the line item id is last.
 */
export function shopifyItems(order: Json): Json[] {
  return list(order.line_items).map((raw, i) => {
    const field = `line_items.${i}`;
    const line = record(raw);
    return compact({
      sku:
        text(line.sku) ??
        exactId(line.variant_id) ??
        exactId(line.product_id) ??
        gidId(line.admin_graphql_api_id, 'LineItem') ??
        exactId(line.id),
      // `name` includes the variant ("IPod Nano - 8gb - green"); `title` is the product only.
      name: firstText(line.name, line.title),
      quantity: positiveInt(line.quantity, `${field}.quantity`),
      price: parseMoney(line.price, `${field}.price`),
    });
  });
}

/** UTM parameters of the page the buyer landed on (`landing_site`, absolute or shop-relative). */
export function shopifyUtm(order: Json): Json | undefined {
  const landing = text(order.landing_site);
  if (landing === undefined) return undefined;
  let params: URLSearchParams;
  try {
    params = new URL(landing, 'https://shop.invalid/').searchParams;
  } catch {
    return undefined; // Attribution is optional; a malformed landing URL must not cost the order.
  }
  return utmObject((key) => params.get(`utm_${key}`));
}

/** The OrderSubmittedV1 payload for a Shopify Order resource whose exact id and status are already known. */
export function mapShopifyOrder(order: Json, externalId: string, status: OrderStatus): Json {
  const createdAt = utcTimestamp(order.created_at, 'created_at', 'ambiguous');
  if (createdAt === undefined) throw violation('created_at', 'isDefined', 'the order has no creation time');
  // The REST Order has no payment time (it lives in transactions), so `paidAt` is not sent.
  return compact({
    externalId,
    status,
    createdAt,
    updatedAt: utcTimestamp(order.updated_at, 'updated_at', 'ambiguous'),
    customer: shopifyCustomer(order),
    deliveryAddress: shopifyDeliveryAddress(order),
    items: shopifyItems(order),
    // `total_price` and line prices are both in the shop currency (`currency`), not the buyer's presentment one.
    total: parseMoney(order.total_price, 'total_price'),
    currency: text(order.currency),
    utm: shopifyUtm(order),
  });
}

/**
 * The order state, not the delivery (X-Shopify-Webhook-Id differs per topic), so that create/paid/updated sent
 * for one change are one event while a retry of any of them is recognised too.
 */
export function shopifyIdempotencyKey(order: Json, externalId: string, status: OrderStatus): string {
  const updated = text(order.updated_at) ?? text(order.created_at) ?? '';
  return `shopify:order:${externalId}@${updated}:${status}`;
}

/**
 * "Send test notification" in the Shopify admin posts a sample order (always id 820982911946154508) with
 * `X-Shopify-Test: true`; the Order resource's own `test` flag marks orders placed through a test gateway.
 */
export const isShopifyTest = (req: Pick<ProviderRequest, 'headers'>, order: Json): boolean =>
  headerValue(req, 'x-shopify-test')?.toLowerCase() === 'true' || order.test === true;

function shopifyTopic(req: ProviderRequest): 'order' | 'skip' {
  const topic = headerValue(req, TOPIC_HEADER);
  if (topic !== undefined && ORDER_TOPICS.has(topic)) return 'order';
  if (topic !== undefined && UNRECORDED_TOPICS.has(topic)) return 'skip';
  throw violation(
    TOPIC_HEADER,
    'isOrderTopic',
    topic === undefined
      ? 'header missing; Shopify sends it with every webhook delivery'
      : `topic "${topic}" is not an order topic; this endpoint accepts ${[...ORDER_TOPICS].join(', ')}`,
  );
}

export const shopifyAdapter: ProviderAdapter = {
  provider: 'shopify',

  verify: (req, secret) => verifyShopify(req, secret),

  toEvents(req): AdaptedEvent[] {
    if (shopifyTopic(req) === 'skip') return [];
    const order = requireObject(req.body);
    const externalId = shopifyOrderId(order, req);
    const status = shopifyStatus(order);
    const payload = mapShopifyOrder(order, externalId, status);
    return [
      {
        type: EventType.WebsiteOrderSubmitted,
        payload: isShopifyTest(req, order) ? { ...payload, test: true } : payload,
        idempotencyKey: shopifyIdempotencyKey(order, externalId, status),
      },
    ];
  },
};
