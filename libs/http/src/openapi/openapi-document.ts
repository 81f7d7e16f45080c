import {
  GUARDS_METADATA,
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ErrorCode, SchemaRegistry, type AnyClass, type JsonSchema } from '@switchboard/contracts';
import { API_DOC, type ApiDocOptions, type SecuritySchemeName } from './api-doc';
import type { RegisteredRoute } from './route-table';

/** A Nest route handler: the controller class and the method's name on it. */
export interface NestHandler {
  controller: AnyClass;
  methodName: string;
}

export interface OpenApiOptions {
  title: string;
  version: string;
  description?: string;
  /** Which schemes a guard (by class name) accepts: any one requirement object of the list. */
  securityByGuard?: Record<string, SecuritySchemeName[][]>;
}

const SECURITY_SCHEMES: Record<SecuritySchemeName, JsonSchema> = {
  bearer: { type: 'http', scheme: 'bearer', description: 'A credential issued by Switchboard.' },
  basic: { type: 'http', scheme: 'basic', description: 'Peer id (or login) and credential as Basic auth.' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The credential in X-Api-Key.' },
  standardWebhook: {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-signature',
    description:
      'Standard Webhooks signature: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with ' +
      '`webhook-id`, `webhook-timestamp` (Unix seconds, within the replay window) and `X-Peer-Id` naming the peer.',
  },
  providerSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Signature',
    description:
      "The provider's own scheme, checked on the raw body with the provider's algorithm (WooCommerce " +
      'X-WC-Webhook-Signature, Shopify X-Shopify-Hmac-Sha256, Twilio X-Twilio-Signature, Zadarma Signature, ' +
      'Mango sign, a token in the URL or form for Tilda/Taplink...). The header named here is indicative.',
  },
  operatorSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'sb_session',
    description: "An operator's web console session.",
  },
};

const METHOD_NAMES: Record<number, string> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT',
  [RequestMethod.DELETE]: 'DELETE',
  [RequestMethod.PATCH]: 'PATCH',
  [RequestMethod.OPTIONS]: 'OPTIONS',
  [RequestMethod.HEAD]: 'HEAD',
  [RequestMethod.ALL]: 'ALL',
};

const WILDCARD_PARAM = 'subPath';
const OPERATION_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'PATCH']);

/** `/a//b/` and `a/b` name the same route. */
export function normalizePath(path: string): string {
  const p = `/${path}`.replace(/\/+/g, '/');
  return p.length > 1 ? p.replace(/\/$/, '') : p;
}

/** A Fastify URL as an OpenAPI path template: `:id` -> `{id}` (regex constraints dropped), `*` -> `{subPath}`. */
export function toOpenApiPath(url: string): string {
  return normalizePath(url)
    .replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}')
    .replace(/\*/g, `{${WILDCARD_PARAM}}`);
}

/** Every (method, path) a Nest controller declares, keyed as Fastify registers them. */
export function nestRoutes(controllers: AnyClass[]): Map<string, NestHandler> {
  const routes = new Map<string, NestHandler>();
  for (const controller of controllers) {
    const prefixes = [Reflect.getMetadata(PATH_METADATA, controller) ?? ''].flat() as string[];
    let proto = controller.prototype as object | null;
    const seen = new Set<string>();
    while (proto && proto !== Object.prototype) {
      for (const methodName of Object.getOwnPropertyNames(proto)) {
        if (methodName === 'constructor' || seen.has(methodName)) continue;
        seen.add(methodName);
        const handler = Object.getOwnPropertyDescriptor(proto, methodName)?.value as unknown;
        if (typeof handler !== 'function') continue;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (paths === undefined || method === undefined) continue;
        for (const prefix of prefixes)
          for (const path of [paths].flat())
            routes.set(`${METHOD_NAMES[method]} ${normalizePath(`${prefix}/${path}`)}`, {
              controller,
              methodName,
            });
      }
      proto = Object.getPrototypeOf(proto) as object | null;
    }
  }
  return routes;
}

function problemSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'RFC 9457 problem details; `code` is stable and is what clients should match on.',
    properties: {
      type: { type: 'string', format: 'uri-reference' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string' },
      code: { type: 'string', enum: Object.values(ErrorCode) },
      requestId: { type: 'string' },
      errors: {
        type: 'array',
        description: 'VALIDATION_FAILED: the first field errors (errorCount says how many there were).',
        items: {
          type: 'object',
          properties: { field: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } },
          required: ['field', 'rule', 'message'],
        },
      },
      errorCount: { type: 'integer' },
    },
    required: ['type', 'title', 'status', 'code'],
  };
}

function docOf(handler: NestHandler | undefined): ApiDocOptions {
  if (!handler) return {};
  const fn = (handler.controller.prototype as Record<string, unknown>)[handler.methodName] as object;
  const onClass = (Reflect.getMetadata(API_DOC, handler.controller) as ApiDocOptions | undefined) ?? {};
  const onMethod = (Reflect.getMetadata(API_DOC, fn) as ApiDocOptions | undefined) ?? {};
  return { ...onClass, ...onMethod };
}

interface RouteArg {
  index: number;
  data?: unknown;
}

/** Query and header parameters the handler reads by name (@Query('x'), @Headers('x')). */
function namedArgs(handler: NestHandler): { query: string[]; headers: string[]; takesBody: boolean } {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, handler.controller, handler.methodName) ??
    {}) as Record<string, RouteArg>;
  const out = { query: [] as string[], headers: [] as string[], takesBody: false };
  for (const [key, arg] of Object.entries(args)) {
    const type = Number(key.split(':')[0]);
    if (type === RouteParamtypes.BODY || type === RouteParamtypes.RAW_BODY) out.takesBody = true;
    if (typeof arg.data !== 'string') continue;
    if (type === RouteParamtypes.QUERY) out.query.push(arg.data);
    if (type === RouteParamtypes.HEADERS) out.headers.push(arg.data);
  }
  return out;
}

function securityOf(handler: NestHandler | undefined, doc: ApiDocOptions, options: OpenApiOptions) {
  if (doc.security) return doc.security;
  if (!handler) return [];
  const fn = (handler.controller.prototype as Record<string, unknown>)[handler.methodName] as object;
  const guards = [
    ...((Reflect.getMetadata(GUARDS_METADATA, handler.controller) as unknown[]) ?? []),
    ...((Reflect.getMetadata(GUARDS_METADATA, fn) as unknown[]) ?? []),
  ];
  const schemes: SecuritySchemeName[][] = [];
  for (const guard of guards) {
    const name = (guard as { name?: string }).name ?? (guard as object).constructor.name;
    schemes.push(...(options.securityByGuard?.[name] ?? []));
  }
  return schemes;
}

function bodySchema(doc: ApiDocOptions, registry: SchemaRegistry): JsonSchema | null {
  const body = doc.body;
  if (!body?.dto) return null;
  const refs = [body.dto].flat().map((cls) => registry.refOf(cls));
  let one: JsonSchema = refs.length === 1 ? refs[0] : { oneOf: refs };
  if (body.extraProperties) {
    // The handler takes these members off before validating the rest against the contract: the contract's
    // own schema with them added (a $ref could not say it, since the contract refuses unknown members).
    const contract = registry.schemaOf([body.dto].flat()[0]);
    one = {
      ...contract,
      properties: { ...body.extraProperties, ...(contract.properties as object) },
      required: [...Object.keys(body.extraProperties), ...((contract.required as string[]) ?? [])],
    };
  }
  if (!body.batchMaxItems) return one;
  return { oneOf: [one, { type: 'array', minItems: 1, maxItems: body.batchMaxItems, items: one }] };
}

/**
 * The OpenAPI 3.1 document of one listener, from its Fastify route table (every route it serves) and the Nest
 * metadata of the handlers behind them: path, method, parameters, status, guards, and the contract classes
 * their bodies are validated against, converted from the same class-validator metadata (libs/contracts
 * json-schema.ts). A route no controller declares (a plugin's) is still listed, described as such.
 */
export function buildOpenApiDocument(
  options: OpenApiOptions,
  routes: readonly RegisteredRoute[],
  handlers: Map<string, NestHandler>,
): JsonSchema {
  const registry = new SchemaRegistry();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const tagsUsed = new Set<string>();
  for (const route of routes) {
    // OpenAPI path items have no WebDAV verbs (an @All route registers them); HEAD and OPTIONS are not
    // operations of ours.
    if (!OPERATION_METHODS.has(route.method)) continue;
    const key = `${route.method} ${normalizePath(route.url)}`;
    const handler = handlers.get(key);
    const doc = docOf(handler);
    const path = toOpenApiPath(route.url);
    const method = route.method.toLowerCase();
    const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const args = handler ? namedArgs(handler) : { query: [], headers: [], takesBody: false };
    const parameters = [
      ...pathParams.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
        ...(name === WILDCARD_PARAM && { description: 'Any sub-path, slashes included.' }),
      })),
      ...[...new Set(args.query)].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
      ...[...new Set(args.headers)].map((name) => ({
        name: name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()),
        in: 'header',
        schema: { type: 'string', maxLength: 200 },
        ...(name === 'idempotency-key' && {
          description: 'The peer’s own id of this fact; a repeat with the same key is accepted once.',
        }),
      })),
    ];
    const status =
      (handler &&
        (Reflect.getMetadata(
          HTTP_CODE_METADATA,
          (handler.controller.prototype as Record<string, object>)[handler.methodName],
        ) as number | undefined)) ??
      (route.method === 'POST' ? 201 : 200);
    const responses: Record<string, JsonSchema> = {};
    for (const [code, r] of Object.entries(doc.responses ?? { [status]: { description: 'Success.' } })) {
      const schema = r.dto ? registry.refOf(r.dto) : r.schema;
      responses[code] = {
        description: r.description,
        ...(schema && { content: { [r.contentType ?? 'application/json']: { schema } } }),
      };
    }
    responses.default = { $ref: '#/components/responses/Problem' };
    const operation: JsonSchema = {
      operationId: handler
        ? `${handler.controller.name.replace(/Controller$/, '')}_${handler.methodName}_${method}`
        : `${method}_${path.replace(/[^A-Za-z0-9]+/g, '_')}`,
      summary: doc.summary ?? (handler ? undefined : 'Served by a plugin of the HTTP server.'),
      description: doc.description,
      tags: doc.tags ?? (handler ? [handler.controller.name.replace(/Controller$/, '')] : ['Server']),
      parameters: parameters.length ? parameters : undefined,
      security: securityOf(handler, doc, options).map((all) =>
        Object.fromEntries(all.map((name) => [name, []])),
      ),
      responses,
    };
    for (const t of operation.tags as string[]) tagsUsed.add(t);
    const schema = bodySchema(doc, registry);
    const raw = doc.body?.raw;
    // A GET carries no body here, even where the route shares its handler and doc with the POST.
    if (method !== 'get' && (schema || raw || args.takesBody)) {
      const content: Record<string, JsonSchema> = {};
      if (schema) content['application/json'] = { schema };
      for (const [type, description] of Object.entries(raw ?? {}))
        content[type] = { schema: { description } };
      if (!Object.keys(content).length) content['application/json'] = { schema: { type: 'object' } };
      operation.requestBody = {
        required: doc.body?.required ?? true,
        description: doc.body?.description,
        content,
      };
    }
    // JSON cannot carry undefined: drop the members that are not there.
    for (const k of Object.keys(operation)) if (operation[k] === undefined) delete operation[k];
    paths[path] ??= {};
    // Two Fastify routes that differ only in a param's regex map to one template: the first one wins.
    paths[path][method] ??= operation;
  }
  // operationIds must be unique across the document.
  const ids = new Map<string, number>();
  for (const ops of Object.values(paths))
    for (const op of Object.values(ops)) {
      const id = op.operationId as string;
      const n = (ids.get(id) ?? 0) + 1;
      ids.set(id, n);
      if (n > 1) op.operationId = `${id}_${n}`;
    }
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: { title: options.title, version: options.version, description: options.description },
    tags: [...tagsUsed].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...registry.schemas, Problem: problemSchema() },
      responses: {
        Problem: {
          description: 'An error, as RFC 9457 problem details with a stable `code`.',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
