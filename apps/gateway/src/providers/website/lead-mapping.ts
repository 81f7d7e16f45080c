import { EventType } from '@switchboard/contracts';
import type { AdaptedEvent } from '../provider-adapter';
import { Json, text } from './order-mapping';

/** Form field names as site builders spell them ("Phone", "UTM MEDIUM", "utm-campaign"): one key per field. */
export const fieldKey = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** A form body's fields by fieldKey; the first spelling wins. */
export function fieldsOf(body: Json): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(body)) if (!out.has(fieldKey(k))) out.set(fieldKey(k), v);
  return out;
}

export const pick = (fields: Map<string, unknown>, ...names: string[]): string | undefined => {
  for (const n of names) {
    const raw = fields.get(n);
    // Ids arrive as JSON numbers too (Taplink's lead_id); lossless JSON keeps big ones as their digits.
    const v = typeof raw === 'number' || typeof raw === 'bigint' ? String(raw) : text(raw);
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
};

const UTM = ['source', 'medium', 'campaign', 'term', 'content'] as const;

/** UTM from the form's hidden fields, else from the page URL's query (the referer of the form post). */
export function utmOf(
  fields: Map<string, unknown>,
  pageUrl: string | undefined,
): Record<string, string> | undefined {
  let query: URLSearchParams | undefined;
  try {
    query = pageUrl ? new URL(pageUrl).searchParams : undefined;
  } catch {
    query = undefined;
  }
  const utm: Record<string, string> = {};
  for (const k of UTM) {
    const v = pick(fields, `utm_${k}`) ?? query?.get(`utm_${k}`) ?? undefined;
    if (v) utm[k] = v.slice(0, 200);
  }
  return Object.keys(utm).length ? utm : undefined;
}

/** The analytics client id from a raw cookie header: Google Analytics `_ga` (GA1.2.<cid>) or Yandex `_ym_uid`. */
export function analyticsClientIdOf(cookies: string | undefined): string | undefined {
  if (!cookies) return undefined;
  const ga = /(?:^|;\s*)_ga=GA\d\.\d\.(\d+\.\d+)/.exec(cookies);
  if (ga) return ga[1];
  const ym = /(?:^|;\s*)_ym_uid=(\d+)/.exec(cookies);
  return ym?.[1];
}

export const leadEvent = (payload: Json, idempotencyKey?: string): AdaptedEvent => ({
  type: EventType.WebsiteLeadSubmitted,
  payload: Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined)),
  idempotencyKey,
});
