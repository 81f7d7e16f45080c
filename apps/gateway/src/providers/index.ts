import type { ProviderAdapter } from './provider-adapter';
import { WEBSITE_ADAPTERS } from './website';

/** Every provider the gateway speaks, by the path segment of `/v1/providers/:provider/:peerId`. */
export const PROVIDERS = new Map<string, ProviderAdapter>([...WEBSITE_ADAPTERS].map((a) => [a.provider, a]));
export type { ProviderAdapter, ProviderRequest, AdaptedEvent, HandshakeReply } from './provider-adapter';
