import type { ProviderAdapter } from './provider-adapter';
import { TELEPHONY_ADAPTERS } from './telephony';
import { WEBSITE_ADAPTERS } from './website';

/**
 * Every provider the gateway speaks, by the path segment of `/v1/providers/:provider/:peerId[/<sub-path>]`.
 * A provider id is unique across areas: a duplicate would silently shadow another provider.
 */
export const PROVIDERS = new Map<string, ProviderAdapter>(
  [...WEBSITE_ADAPTERS, ...TELEPHONY_ADAPTERS].map((a) => [a.provider, a]),
);
if (PROVIDERS.size !== WEBSITE_ADAPTERS.length + TELEPHONY_ADAPTERS.length) {
  throw new Error('two provider adapters share one provider id');
}
export type { ProviderAdapter, ProviderRequest, AdaptedEvent, HandshakeReply } from './provider-adapter';
