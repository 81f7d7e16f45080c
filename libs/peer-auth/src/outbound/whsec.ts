import { randomBytes } from 'node:crypto';

/**
 * Standard Webhooks secrets (https://www.standardwebhooks.com): `whsec_` + base64 of the HMAC key. Outbound
 * messages are signed with signStandardWebhook (../signatures), the same code that checks inbound ones.
 */
export const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

/** The HMAC key of a `whsec_` secret; null when it is not one or its key is not 24-64 bytes. */
export function whsecKey(secret: string): Buffer | null {
  if (!WHSEC.test(secret)) return null;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return key.length >= 24 && key.length <= 64 ? key : null;
}

export const generateWhsec = (): string => `whsec_${randomBytes(32).toString('base64')}`;
