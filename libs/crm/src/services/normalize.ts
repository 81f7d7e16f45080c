import { CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * A phone as the CRM keys it: E.164, or null when it cannot be a phone number. National formats are read in
 * the configured region ("8 (912) 345-67-89" in RU is +79123456789). Validity is checked against the
 * numbering plan's lengths (possible), not allocation, so new ranges and test numbers are not rejected.
 */
export function normalizePhone(raw: string | null | undefined, defaultRegion: string): string | null {
  if (!raw) return null;
  const cleaned = raw.trim();
  if (!/\d/.test(cleaned) || cleaned.length > 40) return null;
  // "00" international prefix and "+" typed as "8 10" are common in copy-pasted numbers.
  const candidate = cleaned.startsWith('00') ? `+${cleaned.slice(2)}` : cleaned;
  const parsed = parsePhoneNumberFromString(candidate, defaultRegion as CountryCode);
  if (!parsed || !parsed.isPossible()) return null;
  return parsed.number;
}

export function normalizeEmail(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const email = raw.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(email) ? email : null;
}
