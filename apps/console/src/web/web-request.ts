import type { FastifyRequest } from 'fastify';
import type { OperatorPrincipal } from '../operators/operator';
import { NO_CSRF_TOKEN, PageContext } from './web-views';

export type WebRequest = FastifyRequest & { operator?: OperatorPrincipal; csrfToken?: string };

/** The common part of every page's context, read from the request the guard has signed in. */
export function pageOf(req: WebRequest): PageContext {
  return {
    operator: req.operator ?? null,
    path: req.url.split('?')[0],
    csrfToken: req.csrfToken ?? NO_CSRF_TOKEN,
  };
}

const LOCAL_MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

/**
 * A query string from an HTML form: empty fields are dropped (an unfilled filter means "any"), and a
 * `datetime-local` value (no offset) is read as UTC, as the form's labels say.
 */
export function formQuery(q: unknown, instants: string[] = ['from', 'to']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((q ?? {}) as Record<string, unknown>)) {
    if (v === '' || v === undefined) continue;
    out[k] =
      instants.includes(k) && typeof v === 'string' && LOCAL_MINUTE.test(v)
        ? `${v}${v.length === 16 ? ':00' : ''}Z`
        : v;
  }
  return out;
}

/** A form field as one string ('' when absent): forms post strings, never arrays here. */
export function field(body: unknown, name: string): string {
  const v = (body ?? {}) as Record<string, unknown>;
  const x = v[name];
  return typeof x === 'string' ? x.trim() : '';
}
