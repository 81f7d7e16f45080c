import { CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * A request's qualification: `new` (worth a manager's call), `unqualified` (no way to reach the person) or
 * `junk` (spam). Pure; the outcome and reason are stored on the lead, never a reason to drop it.
 */
export type Qualification =
  | { status: 'new'; reason: null }
  | { status: 'unqualified'; reason: UnqualifiedReason }
  | { status: 'junk'; reason: JunkReason };
export type UnqualifiedReason = 'noContact' | 'invalidPhone' | 'invalidEmail' | 'disposableEmail';
export type JunkReason = 'honeypot' | 'linkInName';

/** Shipped disposable-mail domains; config `crm.leads.disposableDomains` adds more. */
export const DISPOSABLE_DOMAINS: readonly string[] = [
  'mailinator.com',
  'guerrillamail.com',
  '10minutemail.com',
  'tempmail.com',
  'temp-mail.org',
  'yopmail.com',
  'trashmail.com',
  'sharklasers.com',
  'getnada.com',
  'dispostable.com',
  'maildrop.cc',
  'throwawaymail.com',
  'fakeinbox.com',
  'mohmal.com',
  'emailondeck.com',
];

export interface QualificationInput {
  name?: string | null;
  phone?: string | null;
  email?: string | null;
  /** A honeypot field the site hides from people: any value means a bot filled the form. */
  honeypot?: string | null;
}

/**
 * Parsing with the full metadata is most of a request's CPU, and people send the same number again (typed the
 * same way): results remembered per (region, raw) in a bounded map that starts over when full.
 */
const VALID_PHONE_CACHE_SIZE = 10_000;
const validPhones = new Map<string, string | null>();

/** A valid (allocated) mobile or fixed-line number, read in the region; E.164 or null. */
export function validPhone(raw: string | null | undefined, defaultRegion: string): string | null {
  if (!raw) return null;
  const key = `${defaultRegion}|${raw}`;
  const known = validPhones.get(key);
  if (known !== undefined) return known;
  if (validPhones.size >= VALID_PHONE_CACHE_SIZE) validPhones.clear();
  const phone = parseValidPhone(raw, defaultRegion);
  validPhones.set(key, phone);
  return phone;
}

function parseValidPhone(raw: string, defaultRegion: string): string | null {
  const cleaned = raw.trim();
  if (!/\d/.test(cleaned) || cleaned.length > 40) return null;
  const candidate = cleaned.startsWith('00') ? `+${cleaned.slice(2)}` : cleaned;
  const parsed = parsePhoneNumberFromString(candidate, defaultRegion as CountryCode);
  if (!parsed) return null;
  // A number with a type is valid (isValid is "has a type" wherever the metadata has types, and both first
  // match the national pattern), so isValid runs only for the typeless: one walk of the patterns, not two.
  const type = parsed.getType();
  if (type === undefined) return parsed.isValid() ? parsed.number : null;
  // Unknown type (some plans do not tell mobile from fixed) is accepted; premium, toll-free etc. are not.
  return type === 'MOBILE' || type === 'FIXED_LINE' || type === 'FIXED_LINE_OR_MOBILE' ? parsed.number : null;
}

/** RFC 5322 is far too lax for forms; this is the practical "local@domain.tld" most providers accept. */
export function validEmail(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const email = raw.trim().toLowerCase();
  return /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(
    email,
  ) && email.length <= 254
    ? email
    : null;
}

const LINK = /(https?:\/\/|www\.|\b[a-z0-9-]+\.(com|ru|net|org|info|xyz|top|io|biz)\b)/i;

export function qualify(
  input: QualificationInput,
  defaultRegion: string,
  disposableDomains: readonly string[] = DISPOSABLE_DOMAINS,
): Qualification & { phone: string | null; email: string | null } {
  const phone = validPhone(input.phone, defaultRegion);
  const email = validEmail(input.email);
  const base = { phone, email };
  if (input.honeypot && input.honeypot.trim()) return { ...base, status: 'junk', reason: 'honeypot' };
  if (input.name && LINK.test(input.name)) return { ...base, status: 'junk', reason: 'linkInName' };
  const disposable = !!email && disposableDomains.includes(email.slice(email.indexOf('@') + 1));
  if (phone) return { ...base, status: 'new', reason: null };
  if (email && !disposable) return { ...base, status: 'new', reason: null };
  if (disposable) return { ...base, status: 'unqualified', reason: 'disposableEmail' };
  if (input.phone) return { ...base, status: 'unqualified', reason: 'invalidPhone' };
  if (input.email) return { ...base, status: 'unqualified', reason: 'invalidEmail' };
  return { ...base, status: 'unqualified', reason: 'noContact' };
}

/**
 * The key two submissions share when they are "the same request" (collapsed when repeated within minutes):
 * the same person, form and message.
 */
export function requestFingerprint(r: {
  phone: string | null;
  email: string | null;
  formId?: string | null;
  message?: string | null;
}): string {
  return [r.phone ?? '', r.email ?? '', r.formId ?? '', (r.message ?? '').trim().toLowerCase()].join('|');
}
