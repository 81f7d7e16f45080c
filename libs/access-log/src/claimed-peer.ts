/**
 * The peer id a request CLAIMED, for access-log records of requests that were not authenticated (the
 * authenticated peer, when there is one, takes precedence and is not this function's business). Only ids of
 * peer-id shape are returned, so a token pasted into a user name, or any other secret, never reaches the log;
 * from a token only its public credential id is read, and mapped to its peer through `credentialPeer`.
 */
export interface ClaimSources {
  headers: Record<string, string | string[] | undefined>;
  /** Route params (provider routes carry `:peerId`). */
  params?: unknown;
  query?: unknown;
  /** The `login` field as the request carried it (query or body), captured before authentication removes it. */
  login?: unknown;
}

/** Same shape as @switchboard/peer-auth's PEER_ID (a slug). */
const PEER_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** `sbp_<credentialId>_…`: the credential id is public (12 base62 chars); nothing after it is read. */
const TOKEN_CREDENTIAL_ID = /^sbp_([0-9A-Za-z]{12})_/;
const BEARER = /^Bearer[ \t]+(\S+)/i;
const BASIC = /^Basic[ \t]+([A-Za-z0-9+/=]+)/i;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export function asPeerId(v: unknown): string | null {
  return typeof v === 'string' && PEER_ID.test(v) ? v : null;
}

/** The public credential id of a token-shaped string, or null. */
export function credentialIdOf(token: unknown): string | null {
  if (typeof token !== 'string') return null;
  return TOKEN_CREDENTIAL_ID.exec(token)?.[1] ?? null;
}

function basicUser(authorization: string | undefined): string | null {
  const m = authorization ? BASIC.exec(authorization) : null;
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return asPeerId(colon < 0 ? decoded : decoded.slice(0, colon));
}

/**
 * In the order a peer names itself: provider route `:peerId`, `X-Peer-Id` (signed requests), HTTP Basic user,
 * `login` field, then the credential id embedded in a bearer / X-Api-Key / access_token token.
 */
export function claimedPeerId(
  src: ClaimSources,
  credentialPeer: (credentialId: string) => string | null | undefined,
): string | null {
  const params = src.params as { peerId?: unknown } | undefined;
  const fromParam = asPeerId(params?.peerId);
  if (fromParam) return fromParam;
  const header = asPeerId(first(src.headers['x-peer-id']));
  if (header) return header;
  const authorization = first(src.headers.authorization);
  const basic = basicUser(authorization);
  if (basic) return basic;
  const login = asPeerId(src.login);
  if (login) return login;
  const bearer = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  const query = src.query as { access_token?: unknown } | undefined;
  for (const token of [bearer, first(src.headers['x-api-key']), query?.access_token]) {
    const credentialId = credentialIdOf(token);
    if (credentialId) return asPeerId(credentialPeer(credentialId));
  }
  return null;
}
