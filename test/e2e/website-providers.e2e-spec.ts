import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signShopify, signTwilio } from '@switchboard/peer-auth';
import { eventually, ROOT, TestSystem } from './support/system';

/**
 * What real providers send that a first integration meets at once: Shopify ids above 2^53 with no header that
 * spells them out, test notifications (Shopify's X-Shopify-Test, WooCommerce's ping, Tilda's test=test), and
 * a provider peer created without --scopes using its own route.
 */
const SHOPIFY_ORDER = readFileSync(
  join(ROOT, 'test/fixtures/providers/website/shopify.orders-create.json.txt'),
  'utf8',
);
const SHOPIFY_SECRET = 'shpss_e2e_5c1f0a';
const TWILIO_TOKEN = 'twilio-auth-token-e2e-77';
/** Above 2^53: JSON.parse reads 820982911946154508 as 820982911946154500. */
const BIG_ID = '820982911946154508';

/** The documented order with its own id, the string forms of the id removed unless asked for. */
function shopifyOrder(id: string, { gid = false } = {}): string {
  return SHOPIFY_ORDER.replace('"id": 450789469', `"id": ${id}`).replace(
    '"gid://shopify/Order/450789469"',
    gid ? `"gid://shopify/Order/${id}"` : 'null',
  );
}

describe('website providers: 64-bit ids, test notifications, default scopes', () => {
  const sys = new TestSystem('website-providers');

  beforeAll(async () => {
    await sys.start([]);
    // Peers before the gateway starts: it loads them at start, so no request races the directory.
    for (const [id, provider, extra] of [
      ['shopify-mark', 'shopify', []],
      ['shopify-drop', 'shopify', ['--test-deliveries', 'drop']],
      ['any-shop', 'woocommerce', []],
      ['landing', 'tilda', []],
    ] as const) {
      await sys.cli(
        'peers',
        'create',
        '--id',
        id,
        '--name',
        id,
        '--kind',
        'website',
        '--provider',
        provider,
        '--signing-secret',
        SHOPIFY_SECRET,
        ...extra,
      );
    }
    await Promise.all(['gateway', 'website-connector', 'console'].map((a) => sys.startApp(a as never)));
  });
  afterAll(() => sys.destroy());

  const postShopify = (peer: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${sys.app('gateway').url}/v1/providers/shopify/${peer}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-hmac-sha256': signShopify(body, SHOPIFY_SECRET),
        ...headers,
      },
      body,
    });

  const deal = (peerId: string, externalId: string) =>
    eventually(async () => {
      const { body } = await sys.consoleGet(`/v1/crm/deals?peerId=${peerId}&externalId=${externalId}`);
      return body.items[0] as Record<string, unknown> | undefined;
    });

  it('accepts a Shopify order id above 2^53 from the raw body alone (no admin_graphql_api_id, no header)', async () => {
    const res = await postShopify('shopify-mark', shopifyOrder(BIG_ID));
    expect(res.status).toBe(202);
    expect(await deal('shopify-mark', BIG_ID)).toMatchObject({ externalId: BIG_ID, test: false });
    // The rounded id was never created.
    expect(await sys.sql(`SELECT 1 FROM deals WHERE external_id = '820982911946154500'`)).toHaveLength(0);
  });

  it('keeps a Shopify test notification as test data, visible with test: true', async () => {
    const id = '9007199254740993';
    const res = await postShopify('shopify-mark', shopifyOrder(id), { 'x-shopify-test': 'true' });
    expect(res.status).toBe(202);
    expect(await deal('shopify-mark', id)).toMatchObject({ externalId: id, test: true });
    // What reports and pushes read: real orders only.
    const real = (await sys.consoleGet('/v1/crm/deals?peerId=shopify-mark&test=false')).body.items;
    expect(real.map((d: { externalId: string }) => d.externalId)).toEqual([BIG_ID]);
    expect((await sys.consoleGet('/v1/crm/deals?test=maybe')).status).toBe(400);
  });

  it('answers 200 and records nothing for a test notification to a peer set to drop them', async () => {
    const testId = '9007199254740995';
    const res = await postShopify('shopify-drop', shopifyOrder(testId), { 'x-shopify-test': 'true' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ eventIds: [], droppedTestEvents: 1 });
    // A real order sent afterwards is recorded; the dropped test never is.
    const realId = '9007199254740997';
    expect((await postShopify('shopify-drop', shopifyOrder(realId))).status).toBe(202);
    expect(await deal('shopify-drop', realId)).toMatchObject({ test: false });
    expect((await sys.consoleGet(`/v1/crm/deals?externalId=${testId}`)).body.items).toEqual([]);
  });

  it("answers WooCommerce's webhook_id ping and Tilda's test=test with 200, publishing nothing", async () => {
    const gw = sys.app('gateway').url;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const woo = await fetch(`${gw}/v1/providers/woocommerce/any-shop`, {
      method: 'POST',
      headers: form,
      body: 'webhook_id=42',
    });
    expect(woo.status).toBe(200);
    const tilda = await fetch(`${gw}/v1/providers/tilda/landing`, {
      method: 'POST',
      headers: form,
      body: 'test=test',
    });
    expect(tilda.status).toBe(200);
    expect(await tilda.text()).toBe('ok');
    // Handshakes answer only on an active peer's route of that provider, never for a made-up id.
    const unknown = await fetch(`${gw}/v1/providers/woocommerce/nobody`, {
      method: 'POST',
      headers: form,
      body: 'webhook_id=42',
    });
    expect(unknown.status).toBe(404);
  });

  it('gives a provider peer created without --scopes the scopes its own route needs, and prints them', async () => {
    const created = await sys.cli(
      'peers',
      'create',
      '--id',
      'tw-default',
      '--name',
      'Twilio',
      '--kind',
      'telephony',
      '--provider',
      'twilio',
      '--signing-secret',
      TWILIO_TOKEN,
    );
    expect(created.peer.scopes).toEqual(['telephony.*']);
    const path = '/v1/providers/twilio/tw-default';
    const url = `${sys.app('gateway').url}${path}`;
    const params = {
      AccountSid: 'AC0123456789abcdef0123456789abcdef',
      CallSid: 'CAdefaultscopes0000000000000000001',
      CallStatus: 'completed',
      Direction: 'inbound',
      From: '+79127654321',
      To: '+74951234567',
      CallDuration: '30',
      Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
    };
    // The gateway learns of the new peer through a notification; poll until it has.
    const status = await eventually(async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signTwilio(url, params, TWILIO_TOKEN),
        },
        body: new URLSearchParams(params).toString(),
      });
      return res.status === 202 ? 202 : 0;
    }, 10_000);
    expect(status).toBe(202);
  });
});
