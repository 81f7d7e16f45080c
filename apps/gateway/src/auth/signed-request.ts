import type { SignedRequest } from '@switchboard/peer-auth';
import type { ProviderRequest } from '../providers/provider-adapter';
import type { PeerRequest } from './strategies';

/** The request as the peer signed it: public URL (X-Forwarded-Proto/Host when behind a trusted proxy), raw bytes. */
export function signedRequest(req: PeerRequest): SignedRequest {
  return {
    method: req.method,
    url: `${req.protocol}://${req.host}${req.url}`,
    headers: req.headers,
    rawBody: req.rawBody ?? Buffer.alloc(0),
  };
}

export function providerRequest(req: PeerRequest): ProviderRequest {
  return {
    ...signedRequest(req),
    body: req.body,
    query: (req.query ?? {}) as ProviderRequest['query'],
  };
}
