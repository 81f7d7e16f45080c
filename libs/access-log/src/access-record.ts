export type AccessDirection = 'inbound' | 'outbound';
/** accepted: 2xx/3xx; rejected: the caller's fault (4xx); failed: ours or the other side's (5xx, no answer). */
export type AccessResult = 'accepted' | 'rejected' | 'failed';

/** One interface call, inbound (a gateway request) or outbound (a call Switchboard makes). Never a secret. */
export interface AccessRecord {
  /** UUIDv7, so ids sort by time. */
  id: string;
  direction: AccessDirection;
  /** The authenticated peer only; null when the call was not authenticated (see claimedPeerId). */
  peerId: string | null;
  /**
   * Inbound calls that were NOT authenticated: the peer id the request named (Basic user, X-Peer-Id, login,
   * provider route, a token's credential id). Anyone can name any peer, so rules about a peer never count these
   * as that peer's calls. Null for authenticated and outbound calls.
   */
  claimedPeerId?: string | null;
  /** Console calls: the operator behind the call ('bootstrap' for the shared ADMIN_TOKEN); null otherwise. */
  operatorId?: string | null;
  /** Inbound: the route template (`POST /v1/website/orders` -> `/v1/website/orders`); outbound: the operation. */
  service: string;
  method: string;
  startedAt: Date;
  durationMs: number;
  result: AccessResult;
  httpStatus: number | null;
  errorCode: string | null;
  /** The first event id accepted by the call, when it published one. */
  eventId: string | null;
  clientIp: string | null;
  bytesIn: number | null;
  bytesOut: number | null;
  correlationId: string | null;
  /** sha256 hex of the request body (accessLog.bodies = hash). */
  bodyHash: string | null;
  /** The body itself, only with accessLog.bodies = full. */
  body: string | null;
}

export const resultOf = (status: number | null): AccessResult =>
  status === null || status >= 500 ? 'failed' : status >= 400 ? 'rejected' : 'accepted';
