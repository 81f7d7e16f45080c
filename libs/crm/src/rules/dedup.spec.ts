import { CardCandidate, identityLockKeys, matchCard, normalizeIdentity } from './dedup';

const card = (over: Partial<CardCandidate>): CardCandidate => ({
  kind: 'lead',
  id: 'x',
  phones: [],
  emails: [],
  open: true,
  createdAt: new Date('2026-01-01'),
  responsibleManagerId: null,
  ...over,
});

describe('normalizeIdentity', () => {
  it('keys every spelling of one person alike', () => {
    expect(normalizeIdentity({ phone: '8 (912) 345-67-89', email: ' Anna@Example.COM' }, 'RU')).toEqual({
      phone: '+79123456789',
      email: 'anna@example.com',
    });
    expect(identityLockKeys({ phone: '+79123456789', email: null })).toEqual(['phone:+79123456789']);
  });
});

describe('matchCard', () => {
  const id = { phone: '+79123456789', email: 'anna@example.com' };
  it('prefers a contact to a lead, and phone to email', () => {
    const cards = [
      card({ id: 'lead-phone', phones: [id.phone] }),
      card({ id: 'contact-email', kind: 'contact', emails: [id.email] }),
      card({ id: 'contact-phone', kind: 'contact', phones: [id.phone] }),
    ];
    expect(matchCard(id, cards)).toEqual({ card: cards[2], by: 'phone' });
    expect(matchCard(id, cards.slice(0, 2))?.card.id).toBe('contact-email');
    expect(matchCard(id, cards.slice(0, 1))?.card.id).toBe('lead-phone');
  });
  it('ignores closed leads and takes the oldest open one', () => {
    const cards = [
      card({ id: 'closed', phones: [id.phone], open: false, createdAt: new Date('2025-01-01') }),
      card({ id: 'newer', emails: [id.email], createdAt: new Date('2026-02-01') }),
      card({ id: 'older', emails: [id.email], createdAt: new Date('2026-01-15') }),
    ];
    expect(matchCard(id, cards)).toEqual({ card: cards[2], by: 'email' });
    expect(matchCard({ phone: null, email: null }, cards)).toBeNull();
  });
});
