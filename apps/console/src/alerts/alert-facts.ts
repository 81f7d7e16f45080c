import { CONNECTORS } from '@switchboard/contracts';
import { TopologyNames } from '@switchboard/messaging';
import * as amqp from 'amqplib';
import {
  AdminTokenUseFact,
  AUTH_FAILURE_CODES,
  AuthFailureFact,
  DeadLetterFact,
  ErrorRateFact,
  PausedEndpointFact,
  ExpiringCredentialFact,
  RotationFact,
  RuleSettings,
  SilentPeerFact,
  OverdueTaskFact,
  UnassignedLeadFact,
} from './alert-rules';

/** A parameterised query resolving to the result rows (also of UPDATE ... RETURNING). */
export type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

const rows = async <T>(q: Query, sql: string, params: unknown[]): Promise<T[]> =>
  (await q(sql, params)) as T[];

/*
 * One query per rule. Every access_log scan is bounded by the rule's time window (the partition key, so
 * partitions outside the window are pruned) and runs on an index: access_log_by_code (error_code,
 * started_at) for authentication failures, the primary key (started_at, id) for error rates, and per peer
 * access_log_by_peer (peer_id, started_at DESC) stopping at the first accepted call. `now` is the
 * database's clock, read once per round, so every rule sees the same instant.
 */

export async function authFailureFacts(q: Query, now: Date, s: RuleSettings): Promise<AuthFailureFact[]> {
  const found = await rows<{ peer_id: string; failures: number; codes: string[]; last_at: Date }>(
    q,
    // Failures of the peer itself and of anyone claiming to be it: the point is to see someone guessing.
    `SELECT COALESCE(peer_id, claimed_peer_id) AS peer_id, count(*)::int AS failures,
            array_agg(DISTINCT error_code) AS codes, max(started_at) AS last_at
       FROM access_log
      WHERE error_code = ANY($3::text[])
        AND started_at > $1::timestamptz - make_interval(secs => $2)
        AND direction = 'inbound' AND COALESCE(peer_id, claimed_peer_id) IS NOT NULL
      GROUP BY 1
     HAVING count(*) >= $4`,
    [now, s.authFailureWindowMinutes * 60, AUTH_FAILURE_CODES, s.authFailureThreshold],
  );
  return found.map((r) => ({ peerId: r.peer_id, failures: r.failures, codes: r.codes, lastAt: r.last_at }));
}

/** Authenticated calls only (peer_id): what anyone merely claiming to be the peer sent is not its error rate. */
export async function errorRateFacts(q: Query, now: Date, s: RuleSettings): Promise<ErrorRateFact[]> {
  const found = await rows<{ peer_id: string; total: number; not_accepted: number }>(
    q,
    `SELECT peer_id, count(*)::int AS total, count(*) FILTER (WHERE result <> 'accepted')::int AS not_accepted
       FROM access_log
      WHERE started_at > $1::timestamptz - make_interval(secs => $2)
        AND direction = 'inbound' AND peer_id IS NOT NULL
        AND (error_code IS NULL OR error_code <> ALL($3::text[]))
      GROUP BY peer_id
     HAVING count(*) >= $4`,
    [now, s.errorRateWindowMinutes * 60, AUTH_FAILURE_CODES, s.errorRateMinCalls],
  );
  return found.map((r) => ({ peerId: r.peer_id, total: r.total, notAccepted: r.not_accepted }));
}

export async function expiringCredentialFacts(
  q: Query,
  now: Date,
  s: RuleSettings,
): Promise<ExpiringCredentialFact[]> {
  // Active credentials only: not revoked, not retiring (a newer one already replaces it), not yet expired.
  const found = await rows<{ id: string; peer_id: string; expires_at: Date }>(
    q,
    `SELECT c.id, c.peer_id, c.expires_at
       FROM peer_credentials c JOIN peers p ON p.id = c.peer_id
      WHERE p.status = 'active' AND c.revoked_at IS NULL AND c.retires_at IS NULL
        AND c.expires_at > $1::timestamptz
        AND c.expires_at <= $1::timestamptz + make_interval(secs => $2)`,
    [now, s.credentialExpiringDays * 86_400],
  );
  return found.map((r) => ({ credentialId: r.id, peerId: r.peer_id, expiresAt: r.expires_at }));
}

export async function silentPeerFacts(q: Query, now: Date, s: RuleSettings): Promise<SilentPeerFact[]> {
  const found = await rows<{ id: string; created_at: Date; last_accepted_at: Date | null }>(
    q,
    `SELECT p.id, p.created_at, last.started_at AS last_accepted_at
       FROM peers p
       LEFT JOIN LATERAL (
         SELECT a.started_at FROM access_log a
          WHERE a.peer_id = p.id AND a.started_at >= $1::timestamptz - make_interval(secs => $2)
            AND a.direction = 'inbound' AND a.result = 'accepted'
          ORDER BY a.started_at DESC
          LIMIT 1
       ) last ON true
      WHERE p.status = 'active' AND p.created_at < $1::timestamptz - make_interval(secs => $2)`,
    [now, s.peerSilentHours * 3600],
  );
  return found.map((r) => ({ peerId: r.id, createdAt: r.created_at, lastAcceptedAt: r.last_accepted_at }));
}

/** The peers' own rotations within the window (peer_audit_action_at index). */
export async function rotationFacts(q: Query, now: Date, s: RuleSettings): Promise<RotationFact[]> {
  const found = await rows<{ peer_id: string; rotations: number; credential_ids: string[]; last_at: Date }>(
    q,
    `SELECT peer_id, count(*)::int AS rotations, array_agg(credential_id ORDER BY at DESC) AS credential_ids,
            max(at) AS last_at
       FROM peer_audit
      WHERE action = 'credential.rotated' AND at > $1::timestamptz - make_interval(secs => $2)
        AND peer_id IS NOT NULL
      GROUP BY peer_id`,
    [now, s.credentialRotatedMinutes * 60],
  );
  return found.map((r) => ({
    peerId: r.peer_id,
    rotations: r.rotations,
    credentialIds: r.credential_ids,
    lastAt: r.last_at,
  }));
}

/**
 * Each connector's dead-letter queue depth (checkQueue is passive: it never creates a queue). A queue that does
 * not exist yet holds nothing. Throws when the broker cannot be reached, so the caller skips the rule.
 */
export async function deadLetterFacts(
  amqpUrl: string,
  namespace: string,
  timeoutMs = 5000,
): Promise<DeadLetterFact[]> {
  const names = new TopologyNames(namespace);
  const conn = await amqp.connect(amqpUrl, { timeout: timeoutMs });
  conn.on('error', () => undefined);
  try {
    const facts: DeadLetterFact[] = [];
    for (const connector of Object.keys(CONNECTORS)) {
      const queue = names.deadLetterQueue(connector);
      // A failed passive declare closes the channel, so each check gets its own.
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      try {
        facts.push({ connector, queue, depth: (await ch.checkQueue(queue)).messageCount });
        await ch.close();
      } catch (err) {
        if (!/NOT_FOUND|404/.test((err as Error).message)) throw err;
        facts.push({ connector, queue, depth: 0 });
      }
    }
    return facts;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export async function unassignedLeadFacts(q: Query, now: Date, s: RuleSettings): Promise<UnassignedLeadFact> {
  const [r] = await rows<{ n: number; oldest: Date | null }>(
    q,
    `SELECT count(*)::int AS n, min(created_at) AS oldest FROM leads
      WHERE status = 'new' AND responsible_manager_id IS NULL
        AND created_at < $1::timestamptz - make_interval(secs => $2)`,
    [now, s.unassignedLeadMinutes * 60],
  );
  return { count: r.n, oldestAt: r.oldest ?? now };
}

export async function overdueTaskFacts(q: Query, now: Date): Promise<OverdueTaskFact> {
  const [r] = await rows<{ n: number; oldest: Date | null }>(
    q,
    `SELECT count(*)::int AS n, min(due_at) AS oldest FROM tasks WHERE status = 'open' AND due_at < $1`,
    [now],
  );
  return { count: r.n, oldestDueAt: r.oldest };
}

/** Paused outbound webhook endpoints with the deliveries waiting for each. */
export async function pausedEndpointFacts(q: Query): Promise<PausedEndpointFact[]> {
  const found = await rows<{
    peer_id: string;
    url: string;
    failing_since: Date | null;
    paused_at: Date | null;
    pending: number;
  }>(
    q,
    `SELECT e.peer_id, e.url, e.failing_since, e.paused_at,
            (SELECT count(*)::int FROM outbound_deliveries d WHERE d.peer_id = e.peer_id AND d.status = 'pending') AS pending
       FROM outbound_endpoints e WHERE e.state = 'paused' ORDER BY e.peer_id`,
    [],
  );
  return found.map((r) => ({
    peerId: r.peer_id,
    url: r.url,
    failingSince: r.failing_since,
    pausedAt: r.paused_at,
    pending: r.pending,
  }));
}

/** Console calls made with the shared ADMIN_TOKEN (operator 'bootstrap' in the access log) in the window. */
export async function adminTokenUseFacts(q: Query, now: Date, s: RuleSettings): Promise<AdminTokenUseFact> {
  const [r] = await rows<{ n: number; last: Date | null; ips: string[] | null }>(
    q,
    `SELECT count(*)::int AS n, max(started_at) AS last, array_agg(DISTINCT host(client_ip)) AS ips FROM access_log
      WHERE operator_id = 'bootstrap' AND started_at >= $1::timestamptz - make_interval(secs => $2)`,
    [now, s.adminTokenUseMinutes * 60],
  );
  return { count: r.n, lastAt: r.last, clientIps: (r.ips ?? []).filter((ip) => ip !== null) };
}
