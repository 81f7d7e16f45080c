import type { OutboundEndpointView } from '../outbound/outbound-endpoints';
export const PEER_KINDS = ['website', 'telephony', 'erp', 'crm'] as const;
export type PeerKind = (typeof PEER_KINDS)[number];

export const PEER_PROVIDERS = [
  'generic',
  'woocommerce',
  'shopify',
  'tilda',
  'taplink',
  'twilio',
  'zadarma',
  'mango',
  'asterisk',
  'bitrix24',
  '1c',
  'odoo',
] as const;
export type PeerProvider = (typeof PEER_PROVIDERS)[number];

/**
 * What the gateway does with a provider's test notification (X-Shopify-Test, ...): `mark` publishes it with
 * `test: true` (stored and visible, left out of reports and pushes); `drop` answers 200 and publishes nothing.
 */
export const TEST_DELIVERIES = ['mark', 'drop'] as const;
export type TestDeliveries = (typeof TEST_DELIVERIES)[number];
/** The encoding a 1C peer reads the site's orders in (`sale&mode=query`). */
export const ORDER_ENCODINGS = ['windows-1251', 'utf-8'] as const;
export type OrderEncoding = (typeof ORDER_ENCODINGS)[number];

export const PEER_STATUSES = ['active', 'disabled'] as const;
export type PeerStatus = (typeof PEER_STATUSES)[number];

export const PEER_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** A peer as operators see it: never a secret, only whether a signing secret is set. */
export interface PeerView {
  id: string;
  name: string;
  kind: PeerKind;
  provider: PeerProvider;
  scopes: string[];
  ipAllowlist: string[];
  rateLimitPerMinute: number | null;
  status: PeerStatus;
  timezone: string | null;
  testDeliveries: TestDeliveries;
  /** A 1C peer's order encoding; null = the configured default. */
  orderEncoding: OrderEncoding | null;
  /** Token accepted in the URL (legacy systems only). */
  allowUrlCredentials: boolean;
  hasSigningSecret: boolean;
  /** The outbound webhook endpoint (apps/outbound), without its secret; null when none. */
  outbound: OutboundEndpointView | null;
  createdAt: string;
  updatedAt: string;
}

export interface CredentialView {
  id: string;
  peerId: string;
  state: 'active' | 'retiring' | 'retired' | 'expired' | 'revoked';
  createdAt: string;
  expiresAt: string;
  retiresAt: string | null;
  revokedAt: string | null;
  createdBy: string;
}

/** Shown once, when a credential is issued; the token is never stored or shown again. */
export interface IssuedCredential {
  peerId: string;
  credentialId: string;
  token: string;
  expiresAt: string;
  previous: Array<{ credentialId: string; retiresAt: string }>;
}

/** Associated data binding a sealed signing secret to its peer: a token copied to another row won't open. */
export const signingSecretAad = (peerId: string) => `peer:${peerId}:signing-secret`;
