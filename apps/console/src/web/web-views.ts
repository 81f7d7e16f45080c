import { Injectable } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as nunjucks from 'nunjucks';
import type { OperatorPrincipal, OperatorRole } from '../operators/operator';

/**
 * The templates live next to the source (apps/console/src/web/views); tsc does not copy them, so the built
 * app (dist/apps/console/src/web) finds them through the checkout it was built in.
 */
export function viewsDir(): string {
  const candidates = [
    join(__dirname, 'views'),
    resolve(__dirname, '../../../../../apps/console/src/web/views'),
  ];
  const found = candidates.find((d) => existsSync(join(d, 'layout.njk')));
  if (!found) throw new Error(`web console templates not found in ${candidates.join(' or ')}`);
  return found;
}

/** One entry of the navigation; `roles` decides who sees it (the server enforces the same list). */
export interface NavItem {
  href: string;
  label: string;
  roles: readonly OperatorRole[];
}

const ALL: readonly OperatorRole[] = ['admin', 'supervisor', 'manager', 'auditor'];
/** Who sees which page; the controllers declare the same roles with @Roles(). */
export const PAGE_ROLES = {
  dashboard: ALL,
  leads: ALL,
  contacts: ALL,
  calls: ALL,
  accessLog: ['admin', 'auditor'],
  deadLetters: ['admin', 'supervisor'],
  peers: ['admin'],
  operators: ['admin'],
} as const satisfies Record<string, readonly OperatorRole[]>;

export const NAV: NavItem[] = [
  { href: '/console/', label: 'Dashboard', roles: PAGE_ROLES.dashboard },
  { href: '/console/leads', label: 'Leads', roles: PAGE_ROLES.leads },
  { href: '/console/contacts', label: 'Contacts', roles: PAGE_ROLES.contacts },
  { href: '/console/calls', label: 'Calls', roles: PAGE_ROLES.calls },
  { href: '/console/access-log', label: 'Access log', roles: PAGE_ROLES.accessLog },
  { href: '/console/dead-letters', label: 'Dead letters', roles: PAGE_ROLES.deadLetters },
  { href: '/console/peers', label: 'Peers', roles: PAGE_ROLES.peers },
  { href: '/console/operators', label: 'Operators', roles: PAGE_ROLES.operators },
];

/** What every page gets besides its own data. */
export interface PageContext {
  operator: OperatorPrincipal | null;
  /** The request path, to mark the current page in the navigation (aria-current). */
  path: string;
  /**
   * The CSRF token every state-changing form carries as `_csrf`: the operator session's (OperatorGuard checks it
   * on every cookie-authenticated POST); empty for a Bearer-token request, which is exempt.
   */
  csrfToken: string;
}

export const NO_CSRF_TOKEN = '';

/** Server-side rendering with nunjucks, autoescaping on: every value is HTML-escaped unless marked safe. */
@Injectable()
export class WebViews {
  private readonly env: nunjucks.Environment;

  constructor() {
    this.env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir(), { noCache: false }), {
      autoescape: true,
      throwOnUndefined: false,
      trimBlocks: true,
      lstripBlocks: true,
    });
    this.env.addFilter('dt', (v: Date | string | null) => formatInstant(v));
    this.env.addFilter('qs', (q: Record<string, string>, extra: Record<string, string> = {}) =>
      queryString({ ...q, ...extra }),
    );
  }

  render(name: string, page: PageContext, data: Record<string, unknown> = {}): string {
    const nav = NAV.filter((n) => page.operator && n.roles.includes(page.operator.role)).map((n) => ({
      ...n,
      current:
        n.href === '/console/'
          ? page.path === '/console/' || page.path === '/console'
          : page.path.startsWith(n.href),
    }));
    return this.env.render(name, { ...data, page, nav, operator: page.operator, csrfToken: page.csrfToken });
  }
}

/** `2026-12-07 03:41:05 UTC`: one unambiguous form everywhere (the console runs in UTC). */
export function formatInstant(v: Date | string | number | null | undefined): string {
  if (v === null || v === undefined || v === '') return '';
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A query string of the non-empty values, for links that keep the current filters. */
export function queryString(q: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
