import type { ProviderAdapter } from './provider-adapter';

/** Every provider the gateway speaks, by the path segment of `/v1/providers/:provider/:peerId`. */
export const PROVIDERS = new Map<string, ProviderAdapter>(
  ([] as ProviderAdapter[]).map((a) => [a.provider, a]),
);
export type { ProviderAdapter, ProviderRequest, AdaptedEvent, HandshakeReply } from './provider-adapter';
