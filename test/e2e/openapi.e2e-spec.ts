import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, TestSystem } from './support/system';

/**
 * /openapi.json is generated from what each app really serves. Its completeness is checked against Nest's own
 * route table: every controller reachable from the app's root module (read from the decorators' metadata of
 * the built app, independently of the generator) must have each of its routes in the document. The document
 * is validated against the OpenAPI 3.1 schema by @seriousme/openapi-schema-validator (an ES module, so run in
 * a child node).
 */
const PATH = 'path';
const METHOD = 'method';
/** Nest's RequestMethod order; ALL is documented as its GET, HEAD/OPTIONS and WebDAV verbs are not OpenAPI's. */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'GET', null, null];

type AnyModule = { module?: object; controllers?: object[]; imports?: unknown[] } | (new () => object);

function controllersOf(root: unknown, seen = new Set<unknown>()): Array<new () => object> {
  if (!root || seen.has(root)) return [];
  seen.add(root);
  const dynamic = typeof root === 'object' ? (root as Exclude<AnyModule, new () => object>) : undefined;
  const cls = dynamic?.module ?? root;
  // Controllers, and the controller-shaped classes whose routes Fastify serves directly (@FastRoutes providers).
  const providers = [
    ...((Reflect.getMetadata('providers', cls) as unknown[]) ?? []),
    ...((dynamic?.providers as unknown[]) ?? []),
  ].filter((p) => typeof p === 'function' && Reflect.getMetadata('switchboard:fast-routes', p) === true);
  const controllers = [
    ...((Reflect.getMetadata('controllers', cls) as Array<new () => object>) ?? []),
    ...((dynamic?.controllers as Array<new () => object>) ?? []),
    ...(providers as Array<new () => object>),
  ];
  const imports = [
    ...((Reflect.getMetadata('imports', cls) as unknown[]) ?? []),
    ...(dynamic?.imports ?? []),
  ];
  return [...controllers, ...imports.flatMap((m) => controllersOf(m, seen))];
}

/** `GET /v1/crm/contacts/{id}` for every route a controller declares. */
function declaredRoutes(controllers: Array<new () => object>): string[] {
  const out = new Set<string>();
  for (const c of controllers) {
    const prefixes = [Reflect.getMetadata(PATH, c) ?? ''].flat() as string[];
    for (const name of Object.getOwnPropertyNames(c.prototype)) {
      const fn = (c.prototype as Record<string, unknown>)[name];
      if (typeof fn !== 'function' || name === 'constructor') continue;
      const paths = Reflect.getMetadata(PATH, fn) as string | string[] | undefined;
      const method = Reflect.getMetadata(METHOD, fn) as number | undefined;
      if (paths === undefined || method === undefined) continue;
      for (const prefix of prefixes)
        for (const p of [paths].flat()) {
          const path = `/${prefix}/${p}`
            .replace(/\/+/g, '/')
            .replace(/(.)\/$/, '$1')
            .replace(/:([A-Za-z0-9_]+)/g, '{$1}')
            .replace(/\*/g, '{subPath}');
          if (METHODS[method]) out.add(`${METHODS[method]} ${path}`);
        }
    }
  }
  return [...out].sort();
}

function documentedRoutes(doc: { paths: Record<string, Record<string, unknown>> }): Set<string> {
  return new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    ),
  );
}

function validateOas31(doc: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const script =
    "import { Validator } from '@seriousme/openapi-schema-validator';" +
    "let text = ''; process.stdin.on('data', (d) => (text += d)); process.stdin.on('end', async () => {" +
    'const r = await new Validator().validate(JSON.parse(text));' +
    'process.stdout.write(JSON.stringify({ valid: r.valid, errors: r.errors })); });';
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(JSON.parse(stdout))),
    );
    child.stdin!.end(JSON.stringify(doc));
  });
}

describe('OpenAPI: generated, complete, valid', () => {
  const sys = new TestSystem('openapi');
  beforeAll(() => sys.start(['gateway', 'console']));
  afterAll(() => sys.destroy());

  const apps = [
    { app: 'gateway' as const, module: 'dist/apps/gateway/src/gateway.module.js', root: 'GatewayModule' },
    { app: 'console' as const, module: 'dist/apps/console/src/console.module.js', root: 'ConsoleModule' },
  ];

  it.each(apps)(
    '$app: every route Nest declares is in /openapi.json, and it is valid OpenAPI 3.1',
    async (a) => {
      const res = await fetch(`${sys.app(a.app).url}/openapi.json`); // no credentials: public
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toMatch(/max-age/);
      const doc = await res.json();
      expect(doc.openapi).toMatch(/^3\.1\./);

      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(join(ROOT, a.module)) as Record<string, unknown>;
      const declared = declaredRoutes(controllersOf(mod[a.root]));
      expect(declared.length).toBeGreaterThan(5);
      const documented = documentedRoutes(doc);
      expect(declared.filter((r) => !documented.has(r))).toEqual([]);
      // Routes no controller declares (none today) would still be listed: the document comes from Fastify's table.
      expect(documented.has('GET /health')).toBe(true);

      const result = await validateOas31(doc);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
    },
  );

  it('gateway: bodies are the contracts that validate them; errors are problem+json with the ErrorCode enum', async () => {
    const doc = await (await fetch(`${sys.app('gateway').url}/openapi.json`)).json();
    const orders = doc.paths['/v1/website/orders'].post;
    expect(orders.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/OrderSubmittedV1',
    });
    const order = doc.components.schemas.OrderSubmittedV1;
    expect(order.additionalProperties).toBe(false);
    expect(order.required).toEqual(expect.arrayContaining(['externalId', 'items']));
    expect(order.properties.items.type).toBe('array');
    expect(order.properties.items.items).toMatchObject({ $ref: '#/components/schemas/OrderItemDto' });
    expect(Object.keys(orders.responses)).toEqual(['202', 'default']);
    expect(orders.responses['202'].content['application/json'].schema.required).toEqual(['eventId']);
    expect(orders.security).toEqual(
      expect.arrayContaining([{ bearer: [] }, { basic: [] }, { standardWebhook: [] }]),
    );
    expect(orders.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key' })]),
    );
    const { ErrorCode } = await import('@switchboard/contracts');
    expect(doc.components.schemas.Problem.properties.code.enum).toEqual(Object.values(ErrorCode));
    expect(doc.components.responses.Problem.content['application/problem+json']).toBeDefined();
    // Provider-native bodies are described, not schematised.
    const tilda = doc.paths['/v1/providers/{provider}/{peerId}'].post;
    expect(Object.keys(tilda.requestBody.content)).toEqual(
      expect.arrayContaining(['application/x-www-form-urlencoded', 'application/json']),
    );
    expect(tilda.security).toEqual([{ providerSignature: [] }]);
    // The schema the document gives for an order refuses what the gateway refuses: an unknown field.
    const refused = await sys.post('/v1/website/orders', { externalId: 'x', bogus: 1 });
    expect(refused.status).toBe(400);
  });

  it('docs page: self-contained HTML listing every operation', async () => {
    for (const app of ['gateway', 'console'] as const) {
      const res = await fetch(`${sys.app(app).url}/docs`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).not.toMatch(/<script|https?:\/\/(?!json-schema|spec\.openapis)/);
      const doc = await (await fetch(`${sys.app(app).url}/openapi.json`)).json();
      for (const path of Object.keys(doc.paths))
        expect(html).toContain(`<code>${path.replace(/&/g, '&amp;')}</code>`);
    }
  });
});
