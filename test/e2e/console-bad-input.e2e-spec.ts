import { eventually, TestSystem } from './support/system';

const UUID = '0190f1a2-3b4c-7d5e-8f60-718293a4b5c6';
const FROM = '2026-01-01T00:00:00Z';
const TO = '2026-01-02T00:00:00Z';
const cursorOf = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Query values no console parameter accepts; each must be a 400 problem+json, never a 500. */
const HOSTILE: Array<[string, string]> = [
  ['a NUL byte', 'a%00b'],
  ['only a NUL byte', '%00'],
];
const DATES: Array<[string, string]> = [
  ['year 0000', '0000-01-01T00:00:00Z'],
  ['year 0000 with an offset', '0000-06-01T00:00:00+03:00'],
  ['a NUL inside a date', '2026-01-01T00:00:00Z%00'],
];
const CURSORS: Array<[string, string]> = [
  ['garbage', '!!!'],
  ['base64 of nothing of ours', cursorOf('hello')],
  ['a year-0000 cursor', cursorOf(`0000-01-01T00:00:00.000000Z|${UUID}`)],
  ['a cursor with a NUL', cursorOf(`2026-01-01T00:00:00.000000Z|${UUID}\u0000`)],
];

interface Route {
  method: string;
  path: string;
  /** Valid parameters the route needs; the probed one replaces its own. */
  base?: Record<string, string>;
  text?: string[];
  dates?: string[];
  cursor?: boolean;
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/v1/crm/contacts', text: ['phone', 'email', 'limit'] },
  { method: 'GET', path: '/v1/crm/deals', text: ['externalId', 'peerId', 'contactId', 'limit'] },
  {
    method: 'GET',
    path: '/v1/crm/calls',
    text: ['phone', 'contactId', 'leadId', 'managerId', 'direction', 'disposition', 'limit'],
    dates: ['from', 'to'],
    cursor: true,
  },
  { method: 'GET', path: '/v1/crm/calls/stats', base: { from: FROM, to: TO }, dates: ['from', 'to'] },
  {
    method: 'GET',
    path: '/v1/admin/access-log',
    text: ['peer', 'service', 'direction', 'result', 'code', 'limit'],
    dates: ['from', 'to'],
    cursor: true,
  },
  {
    method: 'GET',
    path: '/v1/admin/access-log/export',
    base: { format: 'csv' },
    text: ['peer', 'service', 'direction', 'result', 'code', 'format'],
    dates: ['from', 'to'],
  },
  { method: 'GET', path: '/v1/admin/access-log/audit', text: ['limit'] },
  { method: 'DELETE', path: '/v1/admin/access-log', base: { from: FROM, to: TO }, dates: ['from', 'to'] },
  { method: 'GET', path: '/v1/admin/alerts', text: ['status', 'rule', 'limit'] },
  { method: 'GET', path: '/v1/admin/peers/shop-test/audit', text: ['limit'] },
  // Routes without parameters of their own: the same rules for any parameter sent anyway.
  { method: 'GET', path: '/v1/admin/peers', text: ['x'] },
  { method: 'POST', path: '/v1/admin/peers', text: ['x'] },
  { method: 'GET', path: '/v1/admin/peers/shop-test', text: ['x'] },
  { method: 'PATCH', path: '/v1/admin/peers/shop-test', text: ['x'] },
  { method: 'POST', path: '/v1/admin/peers/shop-test/credentials', text: ['x'] },
  { method: 'POST', path: '/v1/admin/alerts/evaluate', text: ['x'] },
  { method: 'GET', path: `/v1/crm/contacts/${UUID}`, text: ['x'] },
  { method: 'GET', path: `/v1/crm/calls/${UUID}`, text: ['x'] },
];

/** Path ids that name nothing storable: 400, not a database error. */
const PATH_IDS: Array<[string, string]> = [
  ['a NUL byte', 'a%00b'],
  ['a lone NUL', '%00'],
];
const ID_ROUTES: Array<[string, (id: string) => string]> = [
  ['GET', (id) => `/v1/crm/contacts/${id}`],
  ['GET', (id) => `/v1/crm/calls/${id}`],
  ['GET', (id) => `/v1/admin/peers/${id}`],
  ['PATCH', (id) => `/v1/admin/peers/${id}`],
  ['POST', (id) => `/v1/admin/peers/${id}/credentials`],
  ['GET', (id) => `/v1/admin/peers/${id}/audit`],
  ['DELETE', (id) => `/v1/admin/peers/${id}/credentials/${UUID}`],
  ['DELETE', (id) => `/v1/admin/peers/shop-test/credentials/${id}`],
];

type Probe = [name: string, method: string, url: string, body?: string];

function probes(): Probe[] {
  const out: Probe[] = [];
  const query = (r: Route, param: string, rawValue: string, repeat = false): string => {
    const parts = Object.entries(r.base ?? {})
      .filter(([k]) => k !== param)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
    parts.push(`${param}=${rawValue}`);
    if (repeat) parts.push(`${param}=${rawValue}`);
    return `${r.path}?${parts.join('&')}`;
  };
  for (const r of ROUTES) {
    const body = r.method === 'POST' || r.method === 'PATCH' ? '{}' : undefined;
    const params = [...(r.text ?? []), ...(r.dates ?? []), ...(r.cursor ? ['cursor'] : [])];
    for (const p of params) {
      for (const [what, v] of HOSTILE)
        out.push([`${r.method} ${r.path} ${p}: ${what}`, r.method, query(r, p, v), body]);
      // Repeated: two well-formed values.
      const good = r.dates?.includes(p) ? encodeURIComponent(FROM) : p === 'limit' ? '5' : 'x';
      out.push([`${r.method} ${r.path} ${p} given twice`, r.method, query(r, p, good, true), body]);
    }
    for (const p of r.dates ?? [])
      for (const [what, v] of DATES)
        out.push([
          `${r.method} ${r.path} ${p}: ${what}`,
          r.method,
          query(r, p, encodeURIComponent(v).replace('%2500', '%00')),
        ]);
    if (r.cursor)
      for (const [what, v] of CURSORS)
        out.push([`${r.method} ${r.path} cursor: ${what}`, r.method, query(r, 'cursor', v)]);
  }
  for (const [method, path] of ID_ROUTES)
    for (const [what, id] of PATH_IDS)
      out.push([
        `${method} ${path(':id')} id: ${what}`,
        method,
        path(id),
        method === 'GET' || method === 'DELETE' ? undefined : '{}',
      ]);
  return out;
}

/**
 * Every console route probed with hostile query and path input (issue 12): each answer is a 400
 * application/problem+json with a stable code, never a 500 and never a response cut short.
 */
describe('console refuses hostile query and path input with 400 problem+json', () => {
  const sys = new TestSystem('console-bad-input');

  beforeAll(async () => {
    await sys.start(['console']);
  });
  afterAll(() => sys.destroy());

  it('answers every probe with 400 problem+json', async () => {
    const results: Array<{ name: string; status: number; type: string; code: string }> = [];
    for (const [name, method, url, body] of probes()) {
      const res = await fetch(`${sys.app('console').url}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${sys.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body,
      });
      // A response cut short (an export that failed after its first byte) shows as "cut".
      const text = await res.text().catch(() => 'cut');
      let code = '';
      try {
        code = (JSON.parse(text) as { code?: string }).code ?? '';
      } catch {
        code = `not JSON: ${text.slice(0, 60)}`;
      }
      results.push({
        name,
        status: res.status,
        type: res.headers.get('content-type')?.split(';')[0] ?? '',
        code,
      });
    }
    expect(results.length).toBeGreaterThan(150);
    const wrong = results.filter((r) => r.status !== 400 || r.type !== 'application/problem+json' || !r.code);
    expect(wrong).toEqual([]);
  });

  it('exports a CSV in full, or refuses before the first byte', async () => {
    // The console creates today's partition at start; inserting while it attaches races it (a row routed to
    // the default partition then violates its new constraint), so wait for the partition first.
    const today = `access_log_p${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`;
    expect(
      await eventually(
        async () => (await sys.sql(`SELECT 1 FROM pg_class WHERE relname = $1`, [today])).length === 1,
      ),
    ).toBe(true);
    await sys.sql(
      `INSERT INTO access_log (id, direction, peer_id, service, method, started_at, duration_ms, result, http_status,
         client_ip, correlation_id)
       SELECT gen_random_uuid(), 'inbound', 'shop-test', 'POST /v1/website/orders', 'POST',
         now() - make_interval(secs => g / 1000.0), 3, 'accepted', 202, '127.0.0.1', 'c' || g
       FROM generate_series(1, 2500) g`,
    );
    const res = await fetch(
      `${sys.app('console').url}/v1/admin/access-log/export?format=csv&peer=shop-test`,
      {
        headers: { authorization: `Bearer ${sys.adminToken}` },
      },
    );
    expect(res.status).toBe(200);
    const lines = (await res.text()).split('\r\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2501);
  });
});
