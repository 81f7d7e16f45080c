import { EventEnvelope } from '@switchboard/contracts';
import { v7 as uuidv7 } from 'uuid';
import { idempotencyLockKey, lookupDays, receivedDayOf } from './inbox';

const envelope = (id: string, receivedAt: string): EventEnvelope =>
  ({
    id,
    receivedAt,
    peerId: 'shop',
    idempotencyKey: 'k',
    type: 't',
    traceId: 'tr',
  }) as unknown as EventEnvelope;

describe('inbox marker day (the partition key of processed_events)', () => {
  it('is the UTC day of a UUIDv7 id, whatever receivedAt says (as uuid_v7_day in SQL)', () => {
    const id = uuidv7({ msecs: Date.parse('2026-12-07T23:59:59.999Z') });
    expect(receivedDayOf(envelope(id, '2026-12-08T00:00:00.010Z'))).toBe('2026-12-07');
  });

  it('falls back to receivedAt for an id that is not v7', () => {
    expect(receivedDayOf(envelope('9f1c1a4e-1111-4111-8111-111111111111', '2026-11-01T23:30:00+03:00'))).toBe(
      '2026-11-01',
    );
  });

  it('looks across the window up to the day after today, or after the latest event day', () => {
    const now = Date.parse('2026-12-07T10:00:00Z');
    const today = envelope(uuidv7({ msecs: now }), '');
    expect(lookupDays([today], 30, now)).toEqual(['2026-11-06', '2026-12-08']);
    const ahead = envelope(uuidv7({ msecs: Date.parse('2026-12-20T01:00:00Z') }), '');
    expect(lookupDays([today, ahead], 30, now)).toEqual(['2026-11-06', '2026-12-21']);
  });

  it('locks per consumer, peer and key, unambiguously', () => {
    const a = { ...envelope('x', ''), peerId: 'a:b', idempotencyKey: 'c' };
    const b = { ...envelope('x', ''), peerId: 'a', idempotencyKey: 'b:c' };
    expect(idempotencyLockKey('c', a)).not.toBe(idempotencyLockKey('c', b));
  });
});
