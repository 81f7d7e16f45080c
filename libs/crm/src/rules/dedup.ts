import { normalizeEmail, normalizePhone } from '../services/normalize';

/**
 * Which card a request belongs to. A person is keyed by normalized phone (E.164) and email (lower-case); a
 * request from a known contact attaches to the contact (its open lead if any), else to an open lead with the
 * same phone or email, else it makes a new lead. Phone wins over email: people share office emails more often
 * than mobile numbers.
 */

export interface Identity {
  phone: string | null;
  email: string | null;
}

export function normalizeIdentity(
  raw: { phone?: string | null; email?: string | null },
  defaultRegion: string,
): Identity {
  return { phone: normalizePhone(raw.phone, defaultRegion), email: normalizeEmail(raw.email) };
}

/** The advisory-lock keys that serialize everything about one person (the same keys contacts use). */
export function identityLockKeys(id: Identity): string[] {
  const keys: string[] = [];
  if (id.phone) keys.push(`phone:${id.phone}`);
  if (id.email) keys.push(`email:${id.email}`);
  return keys;
}

export interface CardCandidate {
  kind: 'contact' | 'lead';
  id: string;
  phones: string[];
  emails: string[];
  /** Leads only: open ones (new, in_progress) take requests; closed ones do not. */
  open?: boolean;
  createdAt: Date;
  responsibleManagerId: string | null;
}

export type CardMatch = { card: CardCandidate; by: 'phone' | 'email' } | null;

export function matchCard(id: Identity, cards: readonly CardCandidate[]): CardMatch {
  const usable = cards
    .filter((c) => c.kind === 'contact' || c.open)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  const order: Array<['contact' | 'lead', 'phone' | 'email']> = [
    ['contact', 'phone'],
    ['contact', 'email'],
    ['lead', 'phone'],
    ['lead', 'email'],
  ];
  for (const [kind, by] of order) {
    const value = by === 'phone' ? id.phone : id.email;
    if (!value) continue;
    const card = usable.find(
      (c) => c.kind === kind && (by === 'phone' ? c.phones : c.emails).includes(value),
    );
    if (card) return { card, by };
  }
  return null;
}
