import { AuthError, ConflictError, NotFoundError } from '@switchboard/contracts';
import { rewrapAll, SecretBox } from '@switchboard/secrets';
import { CredentialHasher } from '../credentials/hasher';
import {
  credentialState,
  isLive,
  planRotation,
  RotationError,
  type CredentialRecord,
} from '../credentials/policy';
import { issueToken } from '../credentials/token';
import type { CreatePeerDto, UpdatePeerDto } from './peer.dto';
import { signingSecretAad, type CredentialView, type IssuedCredential, type PeerView } from './model';
import { defaultScopes } from './scopes';
import {
  OUTBOUND_VIEW_SQL,
  outboundSecretAad,
  setOutboundEndpoint,
  type OutboundEndpointView,
} from '../outbound/outbound-endpoints';
import type { Sql, SqlDb } from './sql';

export interface CredentialPolicyConfig {
  overlapHours: number;
  lifetimeDays: number;
  warnDays: number;
  /** Rotations a peer may make itself per rolling hour (operators are not limited). */
  rotationMaxPerHour?: number;
  /** Retired, expired and revoked credential rows are deleted this many days after they stopped working. */
  retentionDays?: number;
}

export interface IssueOptions {
  expiresInDays?: number;
  /** The credential a peer rotated with (POST /v1/credentials/rotate). */
  viaCredential?: string;
  /** After a suspected leak: revoke every other credential of the peer now instead of after the overlap. */
  revokeOld?: boolean;
}

interface PeerRow {
  id: string;
  name: string;
  kind: PeerView['kind'];
  provider: PeerView['provider'];
  scopes: string[];
  ip_allowlist: string[] | string;
  rate_limit_per_minute: number | null;
  status: PeerView['status'];
  signing_secret: string | null;
  timezone: string | null;
  test_deliveries: PeerView['testDeliveries'];
  order_encoding: PeerView['orderEncoding'];
  allow_url_credentials: boolean;
  outbound: OutboundEndpointView | null;
  created_at: Date;
  updated_at: Date;
}

interface CredentialRow {
  id: string;
  peer_id: string;
  secret_hash: string;
  created_at: Date;
  expires_at: Date;
  retires_at: Date | null;
  revoked_at: Date | null;
  created_by: string;
  rotated_from: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  peerId: string | null;
  credentialId: string | null;
  details: Record<string, unknown>;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const PEER_COLUMNS = `id, name, kind, provider, scopes, ip_allowlist::text[] AS ip_allowlist, rate_limit_per_minute,
  status, signing_secret, timezone, test_deliveries, order_encoding, allow_url_credentials, created_at, updated_at, ${OUTBOUND_VIEW_SQL}`;

const toRecord = (c: CredentialRow): CredentialRecord => ({
  id: c.id,
  createdAt: c.created_at,
  expiresAt: c.expires_at,
  retiresAt: c.retires_at,
  revokedAt: c.revoked_at,
});

export function credentialView(c: CredentialRow, now: Date): CredentialView {
  return {
    id: c.id,
    peerId: c.peer_id,
    state: credentialState(toRecord(c), now),
    createdAt: c.created_at.toISOString(),
    expiresAt: c.expires_at.toISOString(),
    retiresAt: c.retires_at?.toISOString() ?? null,
    revokedAt: c.revoked_at?.toISOString() ?? null,
    createdBy: c.created_by,
  };
}

/** pg returns cidr[] as text in some paths; normalise to string[]. */
const cidrs = (v: string[] | string): string[] =>
  Array.isArray(v)
    ? v
    : v
        .replace(/^\{|\}$/g, '')
        .split(',')
        .filter(Boolean);

function peerView(r: PeerRow): PeerView {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    provider: r.provider,
    scopes: r.scopes,
    ipAllowlist: cidrs(r.ip_allowlist),
    rateLimitPerMinute: r.rate_limit_per_minute,
    status: r.status,
    timezone: r.timezone,
    testDeliveries: r.test_deliveries,
    orderEncoding: r.order_encoding,
    allowUrlCredentials: r.allow_url_credentials,
    hasSigningSecret: r.signing_secret !== null,
    outbound: r.outbound,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return slug.length >= 2 ? slug : `peer-${slug || 'x'}`;
}

/**
 * Everything that changes peers and credentials, each change in one transaction with its audit entry.
 * Used by the console API, the operator CLI and the gateway's rotation endpoint.
 */
export class PeerAdmin {
  constructor(
    private readonly db: SqlDb,
    private readonly hasher: CredentialHasher,
    private readonly box: SecretBox,
    private readonly policy: CredentialPolicyConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(
    input: CreatePeerDto,
    actor: string,
  ): Promise<{ peer: PeerView; credential: IssuedCredential }> {
    const id = input.id ?? slugify(input.name);
    const scopes = input.scopes ?? defaultScopes(input.kind, input.provider);
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<PeerRow>(
        `INSERT INTO peers (id, name, kind, provider, scopes, ip_allowlist, rate_limit_per_minute, status, signing_secret, timezone,
                            test_deliveries, allow_url_credentials, order_encoding)
         VALUES ($1, $2, $3, $4, $5, $6::cidr[], $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${PEER_COLUMNS}`,
        [
          id,
          input.name,
          input.kind,
          input.provider ?? 'generic',
          scopes,
          input.ipAllowlist ?? [],
          input.rateLimitPerMinute ?? null,
          input.status ?? 'active',
          input.signingSecret ? this.box.seal(input.signingSecret, signingSecretAad(id)) : null,
          input.timezone ?? null,
          input.testDeliveries ?? 'mark',
          input.allowUrlCredentials ?? false,
          input.orderEncoding ?? null,
        ],
      );
      if (!rows.length) throw new ConflictError(`A peer with id "${id}" already exists.`);
      let outbound: Record<string, unknown> | undefined;
      if (input.outbound) {
        outbound = await setOutboundEndpoint(tx, this.box, id, input.outbound);
        [rows[0]] = await tx.query<PeerRow>(`SELECT ${PEER_COLUMNS} FROM peers WHERE id = $1`, [id]);
      }
      await this.audit(tx, actor, 'peer.created', id, null, {
        ...(outbound && { outbound }),
        kind: input.kind,
        provider: input.provider ?? 'generic',
        scopes,
        scopesDefaulted: input.scopes === undefined,
        ipAllowlist: input.ipAllowlist ?? [],
        signingSecret: input.signingSecret ? 'set' : 'none',
        ...(input.allowUrlCredentials ? { allowUrlCredentials: true } : {}),
      });
      const credential = await this.issueIn(tx, id, actor, input.expiresInDays);
      return { peer: peerView(rows[0]), credential };
    });
  }

  async list(): Promise<PeerView[]> {
    return (await this.db.query<PeerRow>(`SELECT ${PEER_COLUMNS} FROM peers ORDER BY id`)).map(peerView);
  }

  async get(id: string): Promise<PeerView & { credentials: CredentialView[] }> {
    const [row] = await this.db.query<PeerRow>(`SELECT ${PEER_COLUMNS} FROM peers WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError(`No peer "${id}".`);
    const now = this.now();
    const creds = await this.db.query<CredentialRow>(
      `SELECT * FROM peer_credentials WHERE peer_id = $1 ORDER BY created_at DESC`,
      [id],
    );
    return { ...peerView(row), credentials: creds.map((c) => credentialView(c, now)) };
  }

  async update(id: string, patch: UpdatePeerDto, actor: string): Promise<PeerView> {
    return this.db.transaction(async (tx) => {
      const sets: string[] = [];
      const params: unknown[] = [id];
      const set = (column: string, value: unknown, cast = '') => {
        params.push(value);
        sets.push(`${column} = $${params.length}${cast}`);
      };
      const changed: Record<string, unknown> = {};
      if (patch.outbound !== undefined) {
        const [peer] = await tx.query(`SELECT 1 FROM peers WHERE id = $1 FOR UPDATE`, [id]);
        if (!peer) throw new NotFoundError(`No peer "${id}".`);
        changed.outbound = await setOutboundEndpoint(tx, this.box, id, patch.outbound);
        // The peer row is touched so its RETURNING (and updated_at) reflects the endpoint.
        sets.push('id = id');
      }
      if (patch.name !== undefined) set('name', (changed.name = patch.name));
      if (patch.provider !== undefined) set('provider', (changed.provider = patch.provider));
      if (patch.scopes !== undefined) set('scopes', (changed.scopes = patch.scopes));
      if (patch.ipAllowlist !== undefined)
        set('ip_allowlist', (changed.ipAllowlist = patch.ipAllowlist), '::cidr[]');
      if (patch.rateLimitPerMinute !== undefined)
        set('rate_limit_per_minute', (changed.rateLimitPerMinute = patch.rateLimitPerMinute));
      if (patch.status !== undefined) set('status', (changed.status = patch.status));
      if (patch.timezone !== undefined) set('timezone', (changed.timezone = patch.timezone));
      if (patch.testDeliveries !== undefined)
        set('test_deliveries', (changed.testDeliveries = patch.testDeliveries));
      if (patch.orderEncoding !== undefined)
        set('order_encoding', (changed.orderEncoding = patch.orderEncoding));
      if (patch.allowUrlCredentials !== undefined)
        set('allow_url_credentials', (changed.allowUrlCredentials = patch.allowUrlCredentials));
      if (patch.signingSecret !== undefined) {
        set(
          'signing_secret',
          patch.signingSecret === null ? null : this.box.seal(patch.signingSecret, signingSecretAad(id)),
        );
        changed.signingSecret = patch.signingSecret === null ? 'removed' : 'set';
      }
      const rows = sets.length
        ? await tx.query<PeerRow>(
            `UPDATE peers SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING ${PEER_COLUMNS}`,
            params,
          )
        : await tx.query<PeerRow>(`SELECT ${PEER_COLUMNS} FROM peers WHERE id = $1`, [id]);
      if (!rows.length) throw new NotFoundError(`No peer "${id}".`);
      if (sets.length) await this.audit(tx, actor, 'peer.updated', id, null, changed);
      return peerView(rows[0]);
    });
  }

  /**
   * Issues a new credential. Live ones retire after the overlap window (at most two stay live). `viaCredential`
   * is the credential a peer rotated with; it must still be live when the row lock is taken.
   */
  async issueCredential(peerId: string, actor: string, opts: IssueOptions = {}): Promise<IssuedCredential> {
    return this.db.transaction(async (tx) => {
      const [peer] = await tx.query<{ id: string }>(`SELECT id FROM peers WHERE id = $1 FOR UPDATE`, [
        peerId,
      ]);
      if (!peer) throw new NotFoundError(`No peer "${peerId}".`);
      if (opts.viaCredential) await this.limitRotations(tx, peerId);
      const issued = await this.issueIn(tx, peerId, actor, opts.expiresInDays, opts.viaCredential);
      if (!opts.revokeOld) return issued;
      const revoked = await tx.query<{ id: string }>(
        `UPDATE peer_credentials SET revoked_at = now()
          WHERE peer_id = $1 AND id <> $2 AND revoked_at IS NULL RETURNING id`,
        [peerId, issued.credentialId],
      );
      for (const r of revoked) {
        await this.audit(tx, actor, 'credential.revoked', peerId, r.id, {
          by: issued.credentialId,
          reason: 'rotation',
        });
      }
      return { ...issued, previous: [] };
    });
  }

  /** The peer's own rotations within the last hour, counted from the audit trail (rotations are rare). */
  private async limitRotations(tx: Sql, peerId: string): Promise<void> {
    const max = this.policy.rotationMaxPerHour;
    if (max === undefined) return;
    const [row] = await tx.query<{ n: number; oldest: Date | null }>(
      `SELECT count(*)::int AS n, min(at) AS oldest FROM peer_audit
        WHERE peer_id = $1 AND action = 'credential.rotated' AND at > now() - interval '1 hour'`,
      [peerId],
    );
    if (row.n < max) return;
    const wait = row.oldest
      ? Math.max(1, Math.ceil((row.oldest.getTime() + HOUR_MS - Date.now()) / 1000))
      : 3600;
    throw new AuthError('RATE_LIMITED', `At most ${max} rotations per hour; try again later.`, wait);
  }

  /**
   * Deletes credential rows that stopped working (retired, expired or revoked) more than retentionDays ago, with
   * one `credential.purged` audit entry per peer. Returns how many were deleted.
   */
  async purgeDeadCredentials(actor: string): Promise<number> {
    const days = this.policy.retentionDays;
    if (days === undefined) return 0;
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string; peer_id: string }>(
        `DELETE FROM peer_credentials
          WHERE LEAST(revoked_at, retires_at, expires_at) < now() - make_interval(secs => $1)
          RETURNING id, peer_id`,
        [days * 86_400],
      );
      const byPeer = new Map<string, string[]>();
      for (const r of rows) byPeer.set(r.peer_id, [...(byPeer.get(r.peer_id) ?? []), r.id]);
      for (const [peerId, ids] of byPeer) {
        await this.audit(tx, actor, 'credential.purged', peerId, null, {
          credentials: ids,
          retentionDays: days,
        });
      }
      return rows.length;
    });
  }

  async revokeCredential(peerId: string, credentialId: string, actor: string): Promise<CredentialView> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<CredentialRow>(
        `UPDATE peer_credentials SET revoked_at = COALESCE(revoked_at, now())
         WHERE peer_id = $1 AND id = $2 RETURNING *`,
        [peerId, credentialId],
      );
      if (!rows.length) throw new NotFoundError(`Peer "${peerId}" has no credential "${credentialId}".`);
      await this.audit(tx, actor, 'credential.revoked', peerId, credentialId, {});
      return credentialView(rows[0], this.now());
    });
  }

  async auditLog(peerId: string | null, limit = 100): Promise<AuditEntry[]> {
    const rows = await this.db.query<{
      id: string;
      at: Date;
      actor: string;
      action: string;
      peer_id: string | null;
      credential_id: string | null;
      details: Record<string, unknown>;
    }>(`SELECT * FROM peer_audit WHERE ($1::text IS NULL OR peer_id = $1) ORDER BY id DESC LIMIT $2`, [
      peerId,
      limit,
    ]);
    return rows.map((r) => ({
      id: String(r.id),
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      peerId: r.peer_id,
      credentialId: r.credential_id,
      details: r.details,
    }));
  }

  /** Re-encrypts every signing secret under the newest master key; returns how many changed. */
  async rewrapSigningSecrets(actor: string): Promise<{ rewrapped: number; total: number }> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string; signing_secret: string }>(
        `SELECT id, signing_secret FROM peers WHERE signing_secret IS NOT NULL FOR UPDATE`,
      );
      const changed = await rewrapAll(
        rows.map((r) => ({ id: r.id, token: r.signing_secret, aad: signingSecretAad(r.id) })),
        this.box,
      );
      for (const row of changed) {
        await tx.query(`UPDATE peers SET signing_secret = $2 WHERE id = $1`, [row.id, row.token]);
      }
      // Outbound webhook secrets are sealed under the same keyring.
      const endpoints = await tx.query<{ peer_id: string; secret: string }>(
        `SELECT peer_id, secret FROM outbound_endpoints FOR UPDATE`,
      );
      const changedEndpoints = await rewrapAll(
        endpoints.map((r) => ({ id: r.peer_id, token: r.secret, aad: outboundSecretAad(r.peer_id) })),
        this.box,
      );
      for (const row of changedEndpoints) {
        await tx.query(`UPDATE outbound_endpoints SET secret = $2 WHERE peer_id = $1`, [row.id, row.token]);
      }
      await this.audit(tx, actor, 'secrets.rewrapped', null, null, {
        keyId: this.box.primaryKeyId,
        peers: changed.map((r) => r.id),
        outboundEndpoints: changedEndpoints.map((r) => r.id),
      });
      return {
        rewrapped: changed.length + changedEndpoints.length,
        total: rows.length + endpoints.length,
      };
    });
  }

  /**
   * Marks live credentials that entered their warning window, once each, with a `credential.expiring` audit
   * entry; returns them so the caller can log and notify.
   */
  async sweepExpiring(
    actor: string,
  ): Promise<Array<{ peerId: string; credentialId: string; expiresAt: string }>> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string; peer_id: string; expires_at: Date }>(
        `UPDATE peer_credentials SET expiring_notified_at = now()
         WHERE expiring_notified_at IS NULL AND revoked_at IS NULL
           AND (retires_at IS NULL OR retires_at > now())
           AND expires_at > now() AND expires_at <= now() + make_interval(secs => $1)
         RETURNING id, peer_id, expires_at`,
        [this.policy.warnDays * 86_400],
      );
      for (const r of rows) {
        await this.audit(tx, actor, 'credential.expiring', r.peer_id, r.id, {
          expiresAt: r.expires_at.toISOString(),
        });
      }
      return rows.map((r) => ({
        peerId: r.peer_id,
        credentialId: r.id,
        expiresAt: r.expires_at.toISOString(),
      }));
    });
  }

  private async issueIn(
    tx: Sql,
    peerId: string,
    actor: string,
    expiresInDays?: number,
    viaCredential?: string,
  ): Promise<IssuedCredential> {
    const now = this.now();
    const existing = await tx.query<CredentialRow>(`SELECT * FROM peer_credentials WHERE peer_id = $1`, [
      peerId,
    ]);
    const records = existing.map(toRecord);
    if (viaCredential) {
      const via = records.find((r) => r.id === viaCredential);
      const state = via ? credentialState(via, now) : 'revoked';
      if (state !== 'active' && state !== 'retiring') {
        throw new ConflictError('The credential used to rotate is no longer live.');
      }
      // A retiring credential was replaced. It may rotate again only to recover a replacement it minted itself
      // and whose token its client lost (killed before saving it); never to retire a credential an operator
      // (or another rotation) issued after it: a leaked, rotated-away credential must not hijack the new one.
      if (state === 'retiring') {
        const newer = existing.filter(
          (c) => c.id !== viaCredential && isLive(toRecord(c), now) && c.rotated_from !== viaCredential,
        );
        if (newer.length) {
          throw new ConflictError(
            'This credential was replaced by a newer one; rotate with the newest credential.',
          );
        }
      }
    }
    const lifetimeDays = expiresInDays ?? this.policy.lifetimeDays;
    let plan;
    try {
      plan = planRotation(
        records,
        now,
        { overlapHours: this.policy.overlapHours, lifetimeDays },
        viaCredential,
      );
    } catch (err) {
      // An operator may always issue a first (or replacement) credential; only the plan's retirements differ.
      if (!(err instanceof RotationError)) throw err;
      plan = { newCredential: { expiresAt: new Date(now.getTime() + lifetimeDays * DAY_MS) }, retire: [] };
    }
    for (const r of plan.retire) {
      await tx.query(`UPDATE peer_credentials SET retires_at = $2 WHERE id = $1`, [r.id, r.retiresAt]);
    }
    const issued = issueToken();
    await tx.query(
      `INSERT INTO peer_credentials (id, peer_id, secret_hash, created_at, expires_at, created_by, rotated_from)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        issued.credentialId,
        peerId,
        this.hasher.hash(issued.secret),
        now,
        plan.newCredential.expiresAt,
        actor,
        viaCredential ?? null,
      ],
    );
    await this.audit(
      tx,
      actor,
      viaCredential ? 'credential.rotated' : 'credential.issued',
      peerId,
      issued.credentialId,
      {
        expiresAt: plan.newCredential.expiresAt.toISOString(),
        retiring: plan.retire.map((r) => ({ credentialId: r.id, retiresAt: r.retiresAt.toISOString() })),
        ...(viaCredential ? { via: viaCredential } : {}),
      },
    );
    return {
      peerId,
      credentialId: issued.credentialId,
      token: issued.token,
      expiresAt: plan.newCredential.expiresAt.toISOString(),
      previous: plan.retire.map((r) => ({ credentialId: r.id, retiresAt: r.retiresAt.toISOString() })),
    };
  }

  private async audit(
    tx: Sql,
    actor: string,
    action: string,
    peerId: string | null,
    credentialId: string | null,
    details: Record<string, unknown>,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO peer_audit (actor, action, peer_id, credential_id, details) VALUES ($1, $2, $3, $4, $5)`,
      [actor, action, peerId, credentialId, JSON.stringify(details)],
    );
  }
}
