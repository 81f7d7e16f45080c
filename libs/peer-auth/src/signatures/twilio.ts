import { hmac, safeEqual, safeEqualAny, sha256Hex } from './hmac';
import { OK, contentType, fail, header, type SignedRequest, type VerifyResult } from './types';

const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' };
// scheme :// [userinfo@] host [:port] rest — split by hand: WHATWG URL would re-encode the signed string.
const URL_PARTS = /^(https?):\/\/([^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(?::(\d*))?(.*)$/i;

/** The URL as signed, plus the variant with/without the default port: Twilio signs either form. */
export function twilioUrlVariants(url: string): string[] {
  const m = URL_PARTS.exec(url);
  if (!m) return [url];
  const [, scheme, userinfo = '', host, port, rest] = m;
  const dflt = DEFAULT_PORT[scheme.toLowerCase()];
  const prefix = `${scheme}://${userinfo}${host}`;
  if (port === undefined) return [url, `${prefix}:${dflt}${rest}`];
  return port === dflt ? [url, `${prefix}${rest}`] : [url];
}

/** `signature = base64(HMAC-SHA1(authToken, url + name+value for each param, names then values sorted))`. */
export function signTwilio(
  url: string,
  params: URLSearchParams | Record<string, string | string[]>,
  authToken: string,
): string {
  const byName = new Map<string, string[]>();
  const entries =
    params instanceof URLSearchParams
      ? [...params]
      : Object.entries(params).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, x]));
  for (const [name, value] of entries) byName.set(name, [...(byName.get(name) ?? []), value]);
  let data = url;
  for (const name of [...byName.keys()].sort()) {
    for (const value of byName.get(name)!.sort()) data += name + value;
  }
  return hmac('sha1', authToken, data).toString('base64');
}

/**
 * Form POSTs: every body param is signed. JSON bodies: the URL carries `bodySHA256`, only the URL is
 * signed and the body must hash to it.
 */
export function verifyTwilio(req: SignedRequest, authToken: string): VerifyResult {
  const given = header(req, 'x-twilio-signature');
  if (!given) return fail('missing');
  const queryStart = req.url.indexOf('?');
  const query = new URLSearchParams(queryStart < 0 ? '' : req.url.slice(queryStart + 1).split('#')[0]);
  const bodyHash = query.get('bodySHA256');

  let params: URLSearchParams;
  let bodyOk = true;
  if (bodyHash !== null) {
    params = new URLSearchParams();
    bodyOk = safeEqual(bodyHash.toLowerCase(), sha256Hex(req.rawBody));
  } else if (
    req.rawBody.length === 0 ||
    ['', 'application/x-www-form-urlencoded'].includes(contentType(req))
  ) {
    params = new URLSearchParams(req.rawBody.toString('utf8'));
  } else {
    return fail('malformed'); // a non-form body must be covered by bodySHA256
  }
  const expected = twilioUrlVariants(req.url).map((u) => signTwilio(u, params, authToken));
  return safeEqualAny(given, expected) && bodyOk ? OK : fail('mismatch');
}

export interface PublicUrlSource {
  /** Path and query as received (e.g. Node's `req.url` / Fastify's `req.url`). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Whether our own listener terminated TLS. */
  encrypted?: boolean;
}

const HOST = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;
const first = (v: string | undefined): string | undefined => v?.split(',')[0].trim() || undefined;

/**
 * Rebuilds the URL the provider requested. Forwarded scheme/host are honoured only when the
 * immediate peer is a trusted proxy; otherwise a client could choose the URL we verify against.
 * Returns null when the host is missing or not a plain host[:port].
 */
export function publicUrl(req: PublicUrlSource, opts: { trustProxy: boolean }): string | null {
  const fwdProto = opts.trustProxy ? first(header(req, 'x-forwarded-proto'))?.toLowerCase() : undefined;
  const fwdHost = opts.trustProxy ? first(header(req, 'x-forwarded-host')) : undefined;
  const scheme = fwdProto === 'http' || fwdProto === 'https' ? fwdProto : req.encrypted ? 'https' : 'http';
  const host = fwdHost ?? first(header(req, 'host'));
  if (!host || !HOST.test(host) || !req.url.startsWith('/')) return null;
  return `${scheme}://${host}${req.url}`;
}
