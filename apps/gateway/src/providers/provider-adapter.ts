import type { SignedRequest, VerifyResult } from '@switchboard/peer-auth';

/**
 * A provider's webhook as the gateway received it: the raw bytes (for signatures) and the parsed body
 * (JSON object, or the fields of an `application/x-www-form-urlencoded` body as a plain object). JSON is parsed
 * losslessly: an integer beyond 2^53 (a 64-bit id) is its exact decimal text, every other number a number.
 */
export interface ProviderRequest extends SignedRequest {
  body: unknown;
  query: Record<string, string | string[] | undefined>;
  /**
   * The path after `/v1/providers/<provider>/<peerId>` without its leading slash (`events/call` for Mango,
   * which posts to `<base>/events/<name>`); '' for the base URL. Absent where the route is not known.
   */
  subPath?: string;
}

/** What the peer is configured with; adapters read local CDR times in `timezone`. */
export interface ProviderPeer {
  id: string;
  /** IANA zone, e.g. `Europe/Moscow`; null means UTC. */
  timezone: string | null;
}

/** One event to publish: `type` is an EventType of libs/contracts, `payload` is validated against it. */
export interface AdaptedEvent {
  type: string;
  payload: Record<string, unknown>;
  /** The provider's own identity of this fact (call id + state, order id + modified date, ...). */
  idempotencyKey?: string;
}

/** Gateway-wide settings a provider's signature check may need (schemes that carry a timestamp). */
export interface VerifyPolicy {
  /** Max |now - signed timestamp|, seconds (peerAuth.signatureToleranceSeconds). */
  toleranceSeconds: number;
  /** Accept a scheme's superseded version during a migration (Asterisk version 1, body-only). */
  allowLegacySignatures: boolean;
}

/** An answer the provider expects without any event being published (Zadarma's zd_echo, WooCommerce's ping). */
export interface HandshakeReply {
  status: number;
  contentType: string;
  body: string;
}

/**
 * One provider = one small unit: how its requests are authenticated and how its format becomes our events.
 * Adding a provider adds one file and one line to the provider table; nothing else changes.
 */
export interface ProviderAdapter {
  /** Path segment and `peers.provider` value, e.g. `woocommerce`. */
  readonly provider: string;
  /** Checks the provider-native signature with the peer's signing secret (constant-time). */
  verify(req: ProviderRequest, secret: string, policy?: VerifyPolicy): VerifyResult | Promise<VerifyResult>;
  /** A reply for requests that are handshakes rather than events (checked before `verify`), else null. */
  handshake?(req: ProviderRequest, secret: string): HandshakeReply | null;
  /**
   * The request as our events; throws `ContractViolation` (libs/contracts) with field errors when the body
   * is not what the provider sends. An empty array means "understood, nothing to record".
   */
  toEvents(req: ProviderRequest, peer: ProviderPeer): AdaptedEvent[];
}
