/** The raw request as the provider sent it; verification never looks at a parsed/re-serialized body. */
export interface SignedRequest {
  method: string;
  /** Full public URL as the provider requested it, including the query string. */
  url: string;
  /** Header names are expected lower-case; lookups still tolerate other casings. */
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

export type VerifyFailure = 'missing' | 'mismatch' | 'expired' | 'replayed' | 'malformed';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

export const OK: VerifyResult = Object.freeze({ ok: true });
export const fail = (reason: VerifyFailure): VerifyResult => ({ ok: false, reason });

/**
 * Case-insensitive header lookup. Repeated headers (string[]) are joined like Node joins duplicate
 * custom headers, so a doubled signature header fails verification instead of picking one copy.
 */
export function header(req: Pick<SignedRequest, 'headers'>, name: string, joiner = ', '): string | undefined {
  const wanted = name.toLowerCase();
  let value = req.headers[wanted];
  if (value === undefined) {
    const key = Object.keys(req.headers).find((k) => k.toLowerCase() === wanted);
    value = key === undefined ? undefined : req.headers[key];
  }
  return Array.isArray(value) ? value.join(joiner) : value;
}

/** `application/x-www-form-urlencoded` body -> params; null when a field that must be unique repeats. */
export function formFields(rawBody: Buffer, unique: readonly string[] = []): URLSearchParams | null {
  const params = new URLSearchParams(rawBody.toString('utf8'));
  // A repeated signed field would let the verifier and the consumer read different copies.
  return unique.some((name) => params.getAll(name).length > 1) ? null : params;
}

export function contentType(req: Pick<SignedRequest, 'headers'>): string {
  return (header(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
}
