import type { FastifyInstance } from 'fastify';

/** One route as Fastify registered it: the ground truth of what a listener answers. */
export interface RegisteredRoute {
  method: string;
  url: string;
}

const tables = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/**
 * Records every route Fastify registers from now on (Nest controllers, hooks' own routes, plugins), so the
 * OpenAPI document is built from what is really served rather than from a list kept by hand. Call before
 * Nest registers its routes (createHttpApp does).
 */
export function recordRoutes(fastify: FastifyInstance): void {
  const table: RegisteredRoute[] = [];
  tables.set(fastify, table);
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) table.push({ method: String(method).toUpperCase(), url: route.url });
  });
}

/** The routes recorded on this instance, in registration order ([] when recordRoutes was not called). */
export function registeredRoutes(fastify: FastifyInstance): readonly RegisteredRoute[] {
  return tables.get(fastify) ?? [];
}
