import type { SignedRequest } from '@switchboard/peer-auth';
import { isJsonMediaType, parseLosslessJson } from '../providers/lossless-json';
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

/**
 * What a provider adapter reads. A JSON body is parsed again from the raw bytes, losslessly, so 64-bit ids
 * never depend on a header that carries them as text; computed on first read, since handshakes (checked before
 * authentication) mostly look only at the raw bytes.
 */
export function providerRequest(req: PeerRequest): ProviderRequest {
  let body: unknown;
  let parsed = false;
  const bodyOf = (): unknown => {
    if (!parsed) {
      parsed = true;
      const lossless =
        req.rawBody?.length && isJsonMediaType(req.headers['content-type'])
          ? parseLosslessJson(req.rawBody.toString('utf8'))
          : undefined;
      body = lossless ?? req.body;
    }
    return body;
  };
  return {
    ...signedRequest(req),
    get body() {
      return bodyOf();
    },
    query: (req.query ?? {}) as ProviderRequest['query'],
  };
}
