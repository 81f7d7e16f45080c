import { ContractViolation } from '@switchboard/contracts';
import type { SecretBox } from '@switchboard/secrets';
import type { Sql } from '../peers/sql';
import type { OutboundEndpointDto } from './outbound-endpoint.dto';
import { whsecKey } from './whsec';

/** Associated data binding a sealed outbound secret to its peer: a token copied to another row won't open. */
export const outboundSecretAad = (peerId: string) => `peer:${peerId}:outbound-secret`;

export interface OutboundEndpointView {
  url: string;
  eventTypes: string[];
  /** paused: failing for outbound.pauseAfterHours; any PATCH of `outbound` resumes it. */
  state: 'active' | 'paused';
  failingSince: string | null;
  pausedAt: string | null;
  breakerOpenUntil: string | null;
}

/** The peer's endpoint as PeerView shows it (never the secret); a SQL expression over `peers`. */
export const OUTBOUND_VIEW_SQL = `(SELECT jsonb_build_object('url', e.url, 'eventTypes', e.event_types, 'state', e.state,
    'failingSince', e.failing_since, 'pausedAt', e.paused_at, 'breakerOpenUntil', e.breaker_open_until)
   FROM outbound_endpoints e WHERE e.peer_id = peers.id) AS outbound`;

/**
 * Sets (or with null removes) a peer's outbound endpoint inside the caller's transaction; returns what the audit
 * entry records. Setting it resumes a paused endpoint and closes its breaker: the operator has looked at it.
 */
export async function setOutboundEndpoint(
  tx: Sql,
  box: SecretBox,
  peerId: string,
  dto: OutboundEndpointDto | null,
): Promise<Record<string, unknown>> {
  if (dto === null) {
    await tx.query(`DELETE FROM outbound_endpoints WHERE peer_id = $1`, [peerId]);
    return { removed: true };
  }
  if (dto.secret !== undefined && !whsecKey(dto.secret)) {
    throw new ContractViolation([
      {
        field: 'outbound.secret',
        rule: 'whsec',
        message: 'the key after whsec_ must be 24-64 bytes (base64)',
      },
    ]);
  }
  const [existing] = await tx.query(`SELECT 1 FROM outbound_endpoints WHERE peer_id = $1`, [peerId]);
  if (!existing && dto.secret === undefined) {
    throw new ContractViolation([
      {
        field: 'outbound.secret',
        rule: 'required',
        message: 'a new outbound endpoint needs its whsec_ secret',
      },
    ]);
  }
  const sealed = dto.secret === undefined ? null : box.seal(dto.secret, outboundSecretAad(peerId));
  await tx.query(
    `INSERT INTO outbound_endpoints (peer_id, url, secret, event_types) VALUES ($1, $2, $3, $4)
     ON CONFLICT (peer_id) DO UPDATE SET url = EXCLUDED.url,
       secret = COALESCE($3, outbound_endpoints.secret), event_types = EXCLUDED.event_types, state = 'active',
       failing_since = NULL, consecutive_failures = 0, breaker_open_until = NULL, paused_at = NULL,
       updated_at = now()`,
    [peerId, dto.url, sealed, [...new Set(dto.eventTypes)]],
  );
  return { url: dto.url, eventTypes: dto.eventTypes, secret: sealed ? 'set' : 'kept' };
}
