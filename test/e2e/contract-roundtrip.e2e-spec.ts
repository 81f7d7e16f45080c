import { CallEventV1, CallRecordV1, OrderSubmittedV1 } from '@switchboard/contracts';
import { contractFieldPaths } from './support/contract-fields';
import { eventually, TestSystem } from './support/system';

/**
 * Every contract field reaches storage and comes back on the console read API, or the contract refuses it:
 * nothing is validated and then silently dropped. The field lists come from the DTOs' decorators, so a field
 * added to a contract fails here until it is stored and mapped below.
 */
type Json = Record<string, any>;

/** Reads a dotted contract path out of a payload; arrays of objects read their first element. */
function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<any>((node, key) => {
    const here = Array.isArray(node) ? node[0] : node;
    return here === undefined || here === null ? undefined : here[key];
  }, value);
}

/** Storage renders some values its own way: numeric(18,4) as "4990.5000", timestamptz as ISO in UTC. */
function canonical(value: unknown): unknown {
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)) return new Date(value).toISOString();
  return value;
}

/** Where each website.order.submitted field is read back: the deal (GET /v1/crm/deals) or its contact card. */
const ORDER_READBACK: Record<string, (r: { deal: Json; contact: Json }) => unknown> = {
  externalId: ({ deal }) => deal.externalId,
  status: ({ deal }) => deal.status,
  createdAt: ({ deal }) => deal.sourceCreatedAt,
  updatedAt: ({ deal }) => deal.sourceUpdatedAt,
  paidAt: ({ deal }) => deal.paidAt,
  'customer.name': ({ contact }) => contact.name,
  // Stored normalized (E.164, lower case); the payload below is already normalized.
  'customer.phone': ({ contact }) => contact.phones[0],
  'customer.email': ({ contact }) => contact.emails[0],
  deliveryAddress: ({ deal }) => deal.deliveryAddress,
  'items.sku': ({ deal }) => deal.items[0].sku,
  'items.name': ({ deal }) => deal.items[0].name,
  'items.quantity': ({ deal }) => deal.items[0].quantity,
  'items.price': ({ deal }) => deal.items[0].price,
  total: ({ deal }) => deal.amount,
  currency: ({ deal }) => deal.currency,
  'utm.source': ({ deal }) => deal.utmSource,
  'utm.medium': ({ deal }) => deal.utmMedium,
  'utm.campaign': ({ deal }) => deal.utmCampaign,
  'utm.term': ({ deal }) => deal.utmTerm,
  'utm.content': ({ deal }) => deal.utmContent,
  test: ({ deal }) => deal.test,
};

/** Every field set, none at a default value, so a dropped one cannot pass by coincidence. */
const ORDER: Json = {
  externalId: 'RT-1001',
  status: 'paid',
  createdAt: '2026-03-01T09:00:00.000Z',
  updatedAt: '2026-03-01T09:05:00.000Z',
  paidAt: '2026-03-01T09:04:00.000Z',
  customer: { name: 'Roundtrip Buyer', phone: '+79161234567', email: 'roundtrip@example.com' },
  deliveryAddress: 'Tverskaya 1, Moscow',
  items: [{ sku: 'RT-SKU', name: 'Roundtrip item', quantity: 3, price: 12.3456 }],
  total: 37.0368,
  currency: 'EUR',
  utm: { source: 'src-rt', medium: 'med-rt', campaign: 'camp-rt', term: 'term-rt', content: 'content-rt' },
  test: true,
};

/**
 * Telephony events keep their validated payload as the call's timeline (GET /v1/crm/calls/:id), which is
 * where every field is read back; the folded call-log columns are the telephony suites' subject.
 */
const CALL_EVENT: Json = {
  type: 'ended',
  provider: 'generic',
  providerCallId: 'rt-call-1',
  linkedId: 'rt-linked-1',
  parentCallId: 'rt-parent-1',
  sequence: 7,
  direction: 'inbound',
  from: '+79167654321',
  to: '+74950000001',
  line: '+74950000001',
  extension: '101',
  callerName: 'Roundtrip Caller',
  occurredAt: '2026-03-01T10:02:00.000Z',
  startedAt: '2026-03-01T10:00:00.000Z',
  answeredAt: '2026-03-01T10:00:10.000Z',
  endedAt: '2026-03-01T10:02:00.000Z',
  disposition: 'answered',
  durationSeconds: 120,
  billSeconds: 110,
  hangupCause: 'NORMAL_CLEARING',
  recordingUrl: 'https://pbx.example/rec/rt-call-1.mp3',
  recordingId: 'rec-rt-1',
};
const CALL_RECORD: Json = {
  ...Object.fromEntries(Object.entries(CALL_EVENT).filter(([k]) => k !== 'type' && k !== 'occurredAt')),
  providerCallId: 'rt-call-2',
  linkedId: 'rt-linked-2',
  parentCallId: 'rt-parent-2',
};

describe('contract round trip: every contract field is stored and read back', () => {
  const sys = new TestSystem('contract-roundtrip');

  beforeAll(async () => {
    await sys.start([]);
    // No --scopes: a PBX peer gets telephony.* by default.
    const pbx = await sys.cli('peers', 'create', '--id', 'rt-pbx', '--name', 'PBX', '--kind', 'telephony');
    pbxToken = pbx.credential.token;
    await Promise.all(
      (['gateway', 'website-connector', 'telephony-connector', 'console'] as const).map((a) =>
        sys.startApp(a),
      ),
    );
  });
  afterAll(() => sys.destroy());
  let pbxToken = '';

  it('website.order.submitted: each field reaches the deal or its contact', async () => {
    const fields = contractFieldPaths(OrderSubmittedV1);
    expect(fields.filter((f) => !(f in ORDER_READBACK))).toEqual([]); // a new field needs storage + a mapping
    expect(fields.filter((f) => at(ORDER, f) === undefined)).toEqual([]); // and a value in the payload above

    expect((await sys.post('/v1/website/orders', ORDER)).status).toBe(202);
    const deal: Json | undefined = await eventually(
      async () => (await sys.consoleGet(`/v1/crm/deals?externalId=${ORDER.externalId}`)).body.items[0],
    );
    expect(deal).toBeDefined();
    const contact = (await sys.consoleGet(`/v1/crm/contacts/${deal!.contactId}`)).body;
    const stored = Object.fromEntries(
      fields.map((f) => [f, canonical(ORDER_READBACK[f]({ deal: deal!, contact }))]),
    );
    expect(stored).toEqual(Object.fromEntries(fields.map((f) => [f, canonical(at(ORDER, f))])));
  });

  it.each([
    ['telephony.call.* (CallEventV1)', CallEventV1, '/v1/telephony/events', CALL_EVENT],
    ['telephony.call.completed (CallRecordV1)', CallRecordV1, '/v1/telephony/cdr', CALL_RECORD],
  ] as const)('%s: each field is on the call timeline', async (_name, dto, path, body) => {
    const fields = contractFieldPaths(dto);
    expect(fields.filter((f) => at(body, f) === undefined)).toEqual([]);

    const res = await sys.post(path, body, { authorization: `Bearer ${pbxToken}` });
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    const row = await eventually(
      async () =>
        (
          await sys.sql<{ call_log_id: string }>('SELECT call_log_id FROM call_events WHERE event_id = $1', [
            eventId,
          ])
        )[0],
    );
    expect(row).toBeDefined();
    const call = (await sys.consoleGet(`/v1/crm/calls/${row.call_log_id}`)).body;
    const entry = call.timeline.find((e: Json) => e.eventId === eventId);
    const stored = Object.fromEntries(fields.map((f) => [f, canonical(at(entry.payload, f))]));
    expect(stored).toEqual(Object.fromEntries(fields.map((f) => [f, canonical(at(body, f))])));
  });
});
