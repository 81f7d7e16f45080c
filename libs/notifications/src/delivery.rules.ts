/**
 * One customer message (a code, or an order-status notice) across its channels: WhatsApp first, SMS when WhatsApp
 * has not said `delivered` by the fallback time or says it failed. Pure: the sender and the webhooks feed it
 * events and store what it returns.
 *
 *   pending --wa accepted--> whatsapp_sent --delivered/read--> delivered
 *      |                        |  fallback time / failed
 *      |  no WhatsApp, or       v
 *      +--refused/timed out-> sms_pending --sms accepted--> sms_sent --103--> delivered
 *                                                              \--104..108,150--> failed
 * `cancelled`: a code verified, locked or expired before it went out. `failed`: nothing got through by give-up time.
 */
export type DeliveryState =
  'pending' | 'whatsapp_sent' | 'sms_pending' | 'sms_sent' | 'delivered' | 'failed' | 'cancelled';

export const FINAL_STATES: readonly DeliveryState[] = ['delivered', 'failed', 'cancelled'];
/** The states the sender picks up when their next_attempt_at is due. */
export const DUE_STATES: readonly DeliveryState[] = ['pending', 'whatsapp_sent', 'sms_pending'];

export interface DeliverySnapshot {
  state: DeliveryState;
  attempts: number;
  fallbackAt: Date | null;
  giveUpAt: Date;
  whatsappStatus: string | null;
}

export type DeliveryEvent =
  | { type: 'whatsapp_accepted'; messageId: string }
  /** permanent: the API refused this message (bad number, 131026 ...); else a timeout or 5xx/429 worth a retry. */
  | { type: 'whatsapp_refused'; error: string; permanent: boolean }
  | { type: 'whatsapp_status'; status: string; error: string | null }
  | { type: 'fallback_due' }
  | { type: 'sms_accepted'; smsId: string }
  | { type: 'sms_refused'; error: string; permanent: boolean }
  | { type: 'sms_status'; status: string; error: string | null }
  /** The code is no longer wanted (verified, locked or expired) before it was sent. */
  | { type: 'cancel' };

export interface DeliveryChange {
  state: DeliveryState;
  /** When the sender should look at it next (only for DUE_STATES). */
  nextAttemptAt: Date;
  fallbackAt?: Date | null;
  attempts: number;
  channel?: 'whatsapp' | 'sms';
  whatsappMessageId?: string;
  whatsappStatus?: string;
  whatsappError?: string | null;
  smsId?: string;
  smsStatus?: string;
  smsError?: string | null;
  lastError?: string | null;
  /** The sealed code is no longer needed by any channel: wipe it. */
  wipeCode: boolean;
}

export interface DeliveryPolicy {
  now: Date;
  fallbackSeconds: number;
  /** Retry delay after the n-th failed attempt (1-based). */
  retryDelayMs?: (attempt: number) => number;
}

/** WhatsApp's status order: a late `sent` never undoes `delivered`. `failed` stands apart. */
const WA_RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3 };
/** SMS.ru status codes: 103 delivered; these are final failures. */
export const SMSRU_DELIVERED = '103';
export const SMSRU_FAILED = new Set(['104', '105', '106', '107', '108', '150']);

const defaultRetry = (n: number): number => Math.min(60_000, 1000 * 2 ** (n - 1));

export function applyDelivery(
  d: DeliverySnapshot,
  event: DeliveryEvent,
  policy: DeliveryPolicy,
): DeliveryChange | null {
  const { now } = policy;
  const retry = policy.retryDelayMs ?? defaultRetry;
  const base = { attempts: d.attempts, nextAttemptAt: now, wipeCode: false };
  const toSms = (lastError: string | null, extra: Partial<DeliveryChange> = {}): DeliveryChange => ({
    ...base,
    ...extra,
    state: 'sms_pending',
    attempts: 0,
    lastError,
  });
  const finalState = (state: DeliveryState, extra: Partial<DeliveryChange> = {}): DeliveryChange => ({
    ...base,
    ...extra,
    state,
    wipeCode: true,
  });

  switch (event.type) {
    case 'cancel':
      return FINAL_STATES.includes(d.state) ? null : finalState('cancelled');
    case 'whatsapp_accepted': {
      if (d.state !== 'pending') return null;
      const fallbackAt = new Date(now.getTime() + policy.fallbackSeconds * 1000);
      return {
        ...base,
        state: 'whatsapp_sent',
        channel: 'whatsapp',
        whatsappMessageId: event.messageId,
        whatsappStatus: 'accepted',
        fallbackAt,
        nextAttemptAt: fallbackAt,
        lastError: null,
      };
    }
    case 'whatsapp_refused': {
      if (d.state !== 'pending') return null;
      const attempts = d.attempts + 1;
      const retryAt = new Date(now.getTime() + retry(attempts));
      const deadline = d.fallbackAt ?? new Date(now.getTime() + policy.fallbackSeconds * 1000);
      // A retry that would land after the fallback time is not worth waiting for: SMS now.
      if (event.permanent || retryAt >= deadline) return toSms(event.error, { whatsappError: event.error });
      return {
        ...base,
        attempts,
        nextAttemptAt: retryAt,
        fallbackAt: deadline,
        state: 'pending',
        lastError: event.error,
      };
    }
    case 'whatsapp_status': {
      const known = WA_RANK[d.whatsappStatus ?? ''] ?? 0;
      if (event.status === 'failed') {
        const record = { whatsappStatus: 'failed', whatsappError: event.error };
        // Only a message still waiting on WhatsApp falls back; after the SMS went, the failure is just recorded.
        if (d.state === 'whatsapp_sent') return toSms(event.error, record);
        if (known >= WA_RANK.delivered) return null;
        return { ...base, state: d.state, nextAttemptAt: now, ...record };
      }
      const rank = WA_RANK[event.status];
      if (rank === undefined || rank <= known) return null;
      const record = { whatsappStatus: event.status };
      if (rank >= WA_RANK.delivered && (d.state === 'whatsapp_sent' || d.state === 'sms_pending'))
        return finalState('delivered', { ...record, channel: 'whatsapp' });
      return {
        ...base,
        state: d.state,
        nextAttemptAt: d.state === 'whatsapp_sent' ? (d.fallbackAt ?? now) : now,
        ...record,
      };
    }
    case 'fallback_due':
      if (d.state !== 'whatsapp_sent') return null;
      if (d.fallbackAt && d.fallbackAt > now) return null;
      return toSms('WHATSAPP_NOT_DELIVERED_IN_TIME');
    case 'sms_accepted':
      if (d.state !== 'sms_pending') return null;
      // The code has gone by its last channel: nothing needs it any more.
      return {
        ...base,
        state: 'sms_sent',
        channel: 'sms',
        smsId: event.smsId,
        smsStatus: '100',
        nextAttemptAt: now,
        wipeCode: true,
        lastError: null,
      };
    case 'sms_refused': {
      if (d.state !== 'sms_pending') return null;
      const attempts = d.attempts + 1;
      const retryAt = new Date(now.getTime() + retry(attempts));
      if (event.permanent || retryAt >= d.giveUpAt)
        return finalState('failed', { attempts, smsError: event.error, lastError: event.error });
      return {
        ...base,
        state: 'sms_pending',
        attempts,
        nextAttemptAt: retryAt,
        lastError: event.error,
        smsError: event.error,
      };
    }
    case 'sms_status': {
      if (d.state !== 'sms_sent') return null;
      if (event.status === SMSRU_DELIVERED) return finalState('delivered', { smsStatus: event.status });
      if (SMSRU_FAILED.has(event.status))
        return finalState('failed', {
          smsStatus: event.status,
          smsError: event.error ?? event.status,
          lastError: `SMS_${event.status}`,
        });
      return { ...base, state: 'sms_sent', smsStatus: event.status };
    }
  }
}
