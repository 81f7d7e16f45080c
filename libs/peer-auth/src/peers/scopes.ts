import type { PeerKind, PeerProvider } from './model';

/**
 * Scopes name the event types (routing keys) a peer may send: `website.order.submitted` exactly,
 * `website.*` for a whole area (any depth), `*` for everything.
 */
export const SCOPE = /^(\*|[a-z0-9-]+(\.[a-z0-9-]+)*(\.\*)?)$/;

export function scopeAllows(scopes: readonly string[], required: string): boolean {
  for (const s of scopes) {
    if (s === '*' || s === required) return true;
    if (s.endsWith('.*') && required.startsWith(s.slice(0, -1))) return true;
  }
  return false;
}

/**
 * What a peer created without `scopes` may send: what its provider's route publishes (a shop webhook is an
 * order, a PBX's webhook is call events), else its kind's whole area. Without this default a provider peer is
 * refused on its own route (AUTH_SCOPE_DENIED) until an operator guesses the right scope.
 */
const PROVIDER_SCOPES: Readonly<Record<PeerProvider, readonly string[] | null>> = {
  generic: null,
  woocommerce: ['website.order.submitted'],
  shopify: ['website.order.submitted'],
  tilda: ['website.*'],
  taplink: ['website.*'],
  twilio: ['telephony.*'],
  zadarma: ['telephony.*'],
  mango: ['telephony.*'],
  asterisk: ['telephony.*'],
  bitrix24: ['telephony.*'],
  '1c': ['erp.*'],
  odoo: ['erp.*'],
};

export function defaultScopes(kind: PeerKind, provider: PeerProvider = 'generic'): string[] {
  return [...(PROVIDER_SCOPES[provider] ?? [`${kind}.*`])];
}
