import { ErrorCode } from '@switchboard/contracts';

export const MIN_PASSWORD_LENGTH = 12;
/** Longer passwords gain nothing and cost argon2 time; refused so a 1 MB "password" is not hashed. */
export const MAX_PASSWORD_LENGTH = 256;

export type PasswordRefusal =
  | typeof ErrorCode.PASSWORD_TOO_SHORT
  | typeof ErrorCode.PASSWORD_COMMON
  | typeof ErrorCode.PASSWORD_CONTAINS_IDENTITY;

export interface PasswordVerdict {
  code: PasswordRefusal;
  message: string;
}

/** Parts of the operator's identity a password may not contain (case-insensitive): name words, email local part. */
export function identityParts(name: string, email: string): string[] {
  const local = email.toLowerCase().split('@')[0] ?? '';
  const parts = [
    email.toLowerCase(),
    local,
    ...name.toLowerCase().split(/[\s._-]+/),
    ...local.split(/[._+-]+/),
  ];
  // Very short fragments ("al", "j") would refuse half of all passwords without making any guess easier.
  return [...new Set(parts.filter((p) => p.length >= 3))];
}

/**
 * The static part of the password policy (NIST SP 800-63B §5.1.1.2 style: length and a blocklist, no
 * composition rules): at least 12 characters (code points), not on the common list, and not containing the
 * operator's name or email. Reuse of the last passwords needs the stored hashes and is checked by the service.
 */
export function checkPassword(
  password: string,
  identity: { name: string; email: string },
  common: ReadonlySet<string>,
): PasswordVerdict | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH)
    return {
      code: ErrorCode.PASSWORD_TOO_SHORT,
      message: `The password must have at least ${MIN_PASSWORD_LENGTH} characters (it has ${length}).`,
    };
  const lower = password.toLowerCase();
  if (common.has(lower))
    return {
      code: ErrorCode.PASSWORD_COMMON,
      message: 'The password is one of the 100,000 most common passwords; choose another.',
    };
  if (identityParts(identity.name, identity.email).some((p) => lower.includes(p)))
    return {
      code: ErrorCode.PASSWORD_CONTAINS_IDENTITY,
      message: 'The password may not contain your name or email address.',
    };
  return null;
}
