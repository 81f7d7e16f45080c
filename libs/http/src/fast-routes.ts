import { RequestMethod, SetMetadata, type ExecutionContext, type Type } from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { normalizePath } from './openapi/openapi-document';
import { sendProblem, toProblem } from './problem.filter';

/**
 * Marks a controller-shaped class whose routes are served straight by Fastify (installFastRoutes) instead of
 * Nest's router. The class keeps Nest's decorators (@Post, @HttpCode, @Body, @Headers, @UseGuards, @ApiDoc...):
 * they stay the one description of the route, which the OpenAPI document reads as for any controller. List it
 * as a provider, not a controller, or Nest registers the same routes a second time.
 */
export const FAST_ROUTES = 'switchboard:fast-routes';
export const FastRoutes = (): ClassDecorator => SetMetadata(FAST_ROUTES, true);

export const isFastRoutes = (cls: unknown): boolean =>
  typeof cls === 'function' && Reflect.getMetadata(FAST_ROUTES, cls) === true;

/** What stands in for a Nest guard on a fast route: a Fastify preHandler that authenticates or answers. */
export type FastGuard = preHandlerHookHandler;

interface RouteArg {
  index: number;
  data?: unknown;
  factory?: (data: unknown, ctx: ExecutionContext) => unknown;
}

type ArgReader = (req: FastifyRequest, reply: FastifyReply, ctx: ExecutionContext) => unknown;

const METHODS: Partial<Record<RequestMethod, string>> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT',
  [RequestMethod.PATCH]: 'PATCH',
  [RequestMethod.DELETE]: 'DELETE',
};

/** The request as a Nest ExecutionContext, for custom parameter decorators (createParamDecorator). */
function contextOf(req: FastifyRequest, reply: FastifyReply, cls: Type, handler: object): ExecutionContext {
  const http = { getRequest: () => req, getResponse: () => reply, getNext: () => undefined };
  return {
    getType: () => 'http',
    getClass: () => cls,
    getHandler: () => handler,
    getArgs: () => [req, reply],
    getArgByIndex: (i: number) => [req, reply][i],
    switchToHttp: () => http,
    switchToRpc: () => {
      throw new Error('not an RPC context');
    },
    switchToWs: () => {
      throw new Error('not a WebSocket context');
    },
  } as unknown as ExecutionContext;
}

/** How each parameter of the handler is read; only what our fast routes use, anything else refuses to start. */
function argReaders(cls: Type, methodName: string): ArgReader[] {
  const meta = (Reflect.getMetadata(ROUTE_ARGS_METADATA, cls, methodName) ?? {}) as Record<string, RouteArg>;
  const readers: ArgReader[] = [];
  for (const [key, arg] of Object.entries(meta)) {
    const at = `${cls.name}.${methodName} parameter ${arg.index}`;
    if (key.includes(CUSTOM_ROUTE_ARGS_METADATA)) {
      const factory = arg.factory;
      if (!factory) throw new Error(`${at}: a custom decorator without a factory`);
      readers[arg.index] = (_req, _reply, ctx) => factory(arg.data, ctx);
      continue;
    }
    const type = Number(key.split(':')[0]);
    if (type === RouteParamtypes.BODY && arg.data === undefined) readers[arg.index] = (req) => req.body;
    else if (type === RouteParamtypes.HEADERS && typeof arg.data === 'string') {
      const name = arg.data.toLowerCase();
      readers[arg.index] = (req) => req.headers[name];
    } else if (type === RouteParamtypes.REQUEST) readers[arg.index] = (req) => req;
    else if (type === RouteParamtypes.RESPONSE) readers[arg.index] = (_req, reply) => reply;
    else throw new Error(`${at}: a parameter kind fast routes do not read (${key})`);
  }
  return readers;
}

/**
 * Registers the routes of `instance` (a @FastRoutes class) on Fastify: for each handler, its guards as Fastify
 * preHandlers (`guards` maps each guard class named in @UseGuards to its hook), then the handler with its
 * arguments read straight from the request, the status of @HttpCode and the headers of @Header, and anything
 * thrown answered as problem+json exactly as the ProblemFilter answers it on Nest routes. Nest's router,
 * guards, pipes and interceptors are not on the path: on a hot ingest route they cost more CPU than the work.
 * Call after the app-wide hooks are added (routes take the hooks present when they are registered).
 */
export function installFastRoutes(
  fastify: FastifyInstance,
  instance: object,
  guards: ReadonlyMap<unknown, FastGuard>,
): void {
  const cls = instance.constructor as Type;
  if (!isFastRoutes(cls)) throw new Error(`${cls.name} is not marked @FastRoutes()`);
  const prefixes = [Reflect.getMetadata(PATH_METADATA, cls) ?? ''].flat() as string[];
  const classGuards = (Reflect.getMetadata(GUARDS_METADATA, cls) ?? []) as unknown[];
  const proto = cls.prototype as Record<string, unknown>;
  for (const methodName of Object.getOwnPropertyNames(proto)) {
    const handler = proto[methodName];
    if (methodName === 'constructor' || typeof handler !== 'function') continue;
    const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
    const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
    if (paths === undefined || requestMethod === undefined) continue;
    const method = METHODS[requestMethod];
    if (!method) throw new Error(`${cls.name}.${methodName}: unsupported method ${requestMethod}`);
    const hooks = [
      ...classGuards,
      ...((Reflect.getMetadata(GUARDS_METADATA, handler) ?? []) as unknown[]),
    ].map((guard) => {
      const hook = guards.get(guard);
      if (!hook) throw new Error(`${cls.name}.${methodName}: no fast hook for guard ${String(guard)}`);
      return hook;
    });
    const status = (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? 201;
    const headers = (Reflect.getMetadata(HEADERS_METADATA, handler) ?? []) as {
      name: string;
      value: string;
    }[];
    const readers = argReaders(cls, methodName);
    const argKeys = Object.keys((Reflect.getMetadata(ROUTE_ARGS_METADATA, cls, methodName) ?? {}) as object);
    const needsContext = argKeys.some((k) => k.includes(CUSTOM_ROUTE_ARGS_METADATA));
    const fn = handler as (...args: unknown[]) => unknown;
    const answer = (reply: FastifyReply, result: unknown): void => {
      if (!reply.sent) void reply.send(result);
    };
    const fail = (req: FastifyRequest, reply: FastifyReply, err: unknown): void => {
      if (!reply.sent) sendProblem(reply, toProblem(err, req.url.split('?')[0], String(req.id)));
    };
    for (const prefix of prefixes)
      for (const path of [paths].flat()) {
        fastify.route({
          method,
          url: normalizePath(`${prefix}/${path}`),
          preHandler: hooks.length ? hooks : undefined,
          // Not async: the reply is sent from the settled promise, so no extra promise per request.
          handler(req, reply) {
            void reply.code(status);
            for (const h of headers) void reply.header(h.name, h.value);
            let result: unknown;
            try {
              const ctx = needsContext ? contextOf(req, reply, cls, fn) : (undefined as never);
              result = fn.apply(
                instance,
                readers.map((read) => read(req, reply, ctx)),
              );
            } catch (err) {
              return fail(req, reply, err);
            }
            if (result instanceof Promise) {
              result.then(
                (value) => answer(reply, value),
                (err: unknown) => fail(req, reply, err),
              );
            } else answer(reply, result);
          },
        });
      }
  }
}
