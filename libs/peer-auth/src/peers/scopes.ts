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
