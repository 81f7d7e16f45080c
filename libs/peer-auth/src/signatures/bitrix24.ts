import { safeEqual } from './hmac';
import { parsePhpForm } from './php-form';
import { OK, contentType, fail, type SignedRequest, type VerifyResult } from './types';

function applicationToken(req: SignedRequest): string | undefined | null {
  const body = req.rawBody.toString('utf8');
  const type = contentType(req);
  let auth: unknown;
  if (type === 'application/json' || (type === '' && body.trimStart().startsWith('{'))) {
    try {
      auth = (JSON.parse(body) as { auth?: unknown } | null)?.auth;
    } catch {
      return null;
    }
  } else {
    auth = parsePhpForm(body).auth;
  }
  const token = (auth as { application_token?: unknown } | undefined)?.application_token;
  return typeof token === 'string' ? token : token === undefined ? undefined : null;
}

/**
 * Bitrix24 events carry no HMAC: `auth[application_token]` (PHP-style form) or `auth.application_token`
 * (JSON) must equal the token stored from OnAppInstall.
 */
export function verifyBitrix24(req: SignedRequest, applicationTokenSecret: string): VerifyResult {
  const token = applicationToken(req);
  if (token === null) return fail('malformed');
  if (!token) return fail('missing');
  return safeEqual(token, applicationTokenSecret) ? OK : fail('mismatch');
}
