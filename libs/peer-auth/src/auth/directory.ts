import { requireKeys, SecretBox, SecretDecryptError } from '@switchboard/secrets';
import type { CredentialRecord } from '../credentials/policy';
import { IpAllowlist } from '../peers/ip-allowlist';
import {
  signingSecretAad,
  type OrderEncoding,
  type PeerKind,
  type PeerProvider,
  type PeerStatus,
  type TestDeliveries,
} from '../peers/model';
import type { Sql } from '../peers/sql';

export interface DirectoryPeer {
  id: string;
  name: string;
  kind: PeerKind;
  provider: PeerProvider;
  scopes: string[];
  allowlist: IpAllowlist;
  rateLimitPerMinute: number | null;
  status: PeerStatus;
  timezone: string | null;
  testDeliveries: TestDeliveries;
  /** A 1C peer's order encoding; null = the configured default. */
  orderEncoding: OrderEncoding | null;
  /** Legacy systems only: may present its token in the URL (`?access_token=`, `?login=&password=`). */
  allowUrlCredentials: boolean;
  /** Decrypted, in memory only: provider signatures must be recomputed per request. */
  signingSecret: string | null;
}

export interface DirectoryCredential extends CredentialRecord {
  peerId: string;
  hash: string;
}

export interface DirectorySnapshot {
  peers: DirectoryPeer[];
  credentials: DirectoryCredential[];
}

/**
 * The gateway's in-memory view of peers and credentials: authentication reads only memory (no database
 * round trip per request, and ingest survives a PostgreSQL outage on the last snapshot).
 */
export class PeerDirectory {
  private peers = new Map<string, DirectoryPeer>();
  private credentials = new Map<string, DirectoryCredential>();
  loadedAt: Date | null = null;

  get ready(): boolean {
    return this.loadedAt !== null;
  }

  peer(id: string): DirectoryPeer | undefined {
    return this.peers.get(id);
  }

  credential(id: string): DirectoryCredential | undefined {
    return this.credentials.get(id);
  }

  replaceAll(s: DirectorySnapshot): void {
    this.peers = new Map(s.peers.map((p) => [p.id, p]));
    this.credentials = new Map(s.credentials.map((c) => [c.id, c]));
    this.loadedAt = new Date();
  }

  /** Replaces one peer's entry and credentials (a deleted peer passes an empty snapshot). */
  replacePeer(peerId: string, s: DirectorySnapshot): void {
    this.peers.delete(peerId);
    for (const [id, c] of this.credentials) if (c.peerId === peerId) this.credentials.delete(id);
    for (const p of s.peers) this.peers.set(p.id, p);
    for (const c of s.credentials) this.credentials.set(c.id, c);
  }

  get size(): { peers: number; credentials: number } {
    return { peers: this.peers.size, credentials: this.credentials.size };
  }
}

function openSigningSecret(box: SecretBox, peerId: string, sealed: string): string {
  try {
    return box.openString(sealed, signingSecretAad(peerId));
  } catch (err) {
    if (!(err instanceof SecretDecryptError)) throw err;
    throw new SecretDecryptError(err.code, `Signing secret of peer "${peerId}": ${err.message}`, err.keyIds);
  }
}

/**
 * Reads peers (all, or one) with their credentials that can still matter (not retired or expired for more
 * than a day: those answer AUTH_EXPIRED a while, then look unknown). Fails when a signing secret needs a master
 * key the keyring lacks, naming the key ids.
 */
export async function loadDirectory(sql: Sql, box: SecretBox, peerId?: string): Promise<DirectorySnapshot> {
  const peers = await sql.query<{
    id: string;
    name: string;
    kind: PeerKind;
    provider: PeerProvider;
    scopes: string[];
    ip_allowlist: string[];
    rate_limit_per_minute: number | null;
    status: PeerStatus;
    signing_secret: string | null;
    timezone: string | null;
    test_deliveries: TestDeliveries;
    order_encoding: OrderEncoding | null;
    allow_url_credentials: boolean;
  }>(
    `SELECT id, name, kind, provider, scopes, ip_allowlist::text[] AS ip_allowlist, rate_limit_per_minute, status,
            signing_secret, timezone, test_deliveries, order_encoding, allow_url_credentials
     FROM peers WHERE $1::text IS NULL OR id = $1`,
    [peerId ?? null],
  );
  const credentials = await sql.query<{
    id: string;
    peer_id: string;
    secret_hash: string;
    created_at: Date;
    expires_at: Date;
    retires_at: Date | null;
    revoked_at: Date | null;
  }>(
    `SELECT id, peer_id, secret_hash, created_at, expires_at, retires_at, revoked_at FROM peer_credentials
     WHERE ($1::text IS NULL OR peer_id = $1)
       AND expires_at > now() - interval '1 day'
       AND (retires_at IS NULL OR retires_at > now() - interval '1 day')`,
    [peerId ?? null],
  );
  requireKeys(
    box,
    peers.flatMap((p) => (p.signing_secret ? [p.signing_secret] : [])),
  );
  return {
    peers: peers.map((p) => ({
      id: p.id,
      name: p.name,
      kind: p.kind,
      provider: p.provider,
      scopes: p.scopes,
      allowlist: new IpAllowlist(p.ip_allowlist),
      rateLimitPerMinute: p.rate_limit_per_minute,
      status: p.status,
      timezone: p.timezone,
      testDeliveries: p.test_deliveries,
      orderEncoding: p.order_encoding,
      allowUrlCredentials: p.allow_url_credentials,
      signingSecret: p.signing_secret ? openSigningSecret(box, p.id, p.signing_secret) : null,
    })),
    credentials: credentials.map((c) => ({
      id: c.id,
      peerId: c.peer_id,
      hash: c.secret_hash,
      createdAt: c.created_at,
      expiresAt: c.expires_at,
      retiresAt: c.retires_at,
      revokedAt: c.revoked_at,
    })),
  };
}
