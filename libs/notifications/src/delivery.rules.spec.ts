import { applyDelivery, type DeliveryEvent, type DeliverySnapshot } from './delivery.rules';

const now = new Date('2026-12-07T10:00:00Z');
const at = (s: number) => new Date(now.getTime() + s * 1000);
const policy = { now, fallbackSeconds: 30 };
const snap = (over: Partial<DeliverySnapshot> = {}): DeliverySnapshot => ({
  state: 'pending',
  attempts: 0,
  fallbackAt: at(30),
  giveUpAt: at(300),
  whatsappStatus: null,
  ...over,
});
/** Applies events in order, feeding each result into the next; returns the states passed through. */
function run(start: DeliverySnapshot, events: DeliveryEvent[], p = policy): string[] {
  let d = start;
  const states: string[] = [];
  for (const e of events) {
    const c = applyDelivery(d, e, p);
    if (c)
      d = {
        ...d,
        state: c.state,
        attempts: c.attempts,
        fallbackAt: c.fallbackAt ?? d.fallbackAt,
        whatsappStatus: c.whatsappStatus ?? d.whatsappStatus,
      };
    states.push(d.state);
  }
  return states;
}

describe('applyDelivery', () => {
  it('WhatsApp accepted then delivered: delivered, code wiped, no SMS', () => {
    const c = applyDelivery(snap(), { type: 'whatsapp_accepted', messageId: 'wamid.1' }, policy)!;
    expect(c).toMatchObject({
      state: 'whatsapp_sent',
      nextAttemptAt: at(30),
      fallbackAt: at(30),
      wipeCode: false,
    });
    const d = applyDelivery(
      snap({ state: 'whatsapp_sent', whatsappStatus: 'accepted' }),
      { type: 'whatsapp_status', status: 'delivered', error: null },
      policy,
    )!;
    expect(d).toMatchObject({ state: 'delivered', wipeCode: true });
  });

  it('WhatsApp silent: the fallback time moves it to SMS, not before', () => {
    const sent = snap({ state: 'whatsapp_sent', fallbackAt: at(30) });
    expect(applyDelivery(sent, { type: 'fallback_due' }, policy)).toBeNull();
    expect(applyDelivery(sent, { type: 'fallback_due' }, { ...policy, now: at(30) })).toMatchObject({
      state: 'sms_pending',
      lastError: 'WHATSAPP_NOT_DELIVERED_IN_TIME',
    });
  });

  it('WhatsApp failed (131026 undeliverable): SMS at once', () => {
    const c = applyDelivery(
      snap({ state: 'whatsapp_sent' }),
      { type: 'whatsapp_status', status: 'failed', error: '131026 Message undeliverable' },
      policy,
    );
    expect(c).toMatchObject({
      state: 'sms_pending',
      whatsappStatus: 'failed',
      whatsappError: '131026 Message undeliverable',
    });
  });

  it('a refused WhatsApp send: permanent -> SMS; transient -> retry, unless the retry lands after the fallback time', () => {
    expect(
      applyDelivery(snap(), { type: 'whatsapp_refused', error: 'WHATSAPP_131026', permanent: true }, policy),
    ).toMatchObject({ state: 'sms_pending' });
    expect(
      applyDelivery(
        snap(),
        { type: 'whatsapp_refused', error: 'WHATSAPP_HTTP_503', permanent: false },
        policy,
      ),
    ).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: at(1) });
    expect(
      applyDelivery(
        snap({ fallbackAt: at(0.5) }),
        { type: 'whatsapp_refused', error: 'WHATSAPP_HTTP_503', permanent: false },
        policy,
      ),
    ).toMatchObject({ state: 'sms_pending' });
  });

  it('statuses never go backwards and a late WhatsApp failure after delivery changes nothing', () => {
    const states = run(snap(), [
      { type: 'whatsapp_accepted', messageId: 'w' },
      { type: 'whatsapp_status', status: 'read', error: null },
      { type: 'whatsapp_status', status: 'sent', error: null },
      { type: 'whatsapp_status', status: 'failed', error: 'x' },
      { type: 'fallback_due' },
    ]);
    expect(states).toEqual(['whatsapp_sent', 'delivered', 'delivered', 'delivered', 'delivered']);
  });

  it('SMS: accepted wipes the code; 103 delivered; 104..108 failed; a transient refusal retries until give-up', () => {
    expect(
      applyDelivery(snap({ state: 'sms_pending' }), { type: 'sms_accepted', smsId: 's1' }, policy),
    ).toMatchObject({ state: 'sms_sent', wipeCode: true });
    expect(
      applyDelivery(snap({ state: 'sms_sent' }), { type: 'sms_status', status: '103', error: null }, policy),
    ).toMatchObject({ state: 'delivered' });
    expect(
      applyDelivery(snap({ state: 'sms_sent' }), { type: 'sms_status', status: '104', error: null }, policy),
    ).toMatchObject({ state: 'failed', lastError: 'SMS_104' });
    expect(
      applyDelivery(snap({ state: 'sms_sent' }), { type: 'sms_status', status: '102', error: null }, policy),
    ).toMatchObject({ state: 'sms_sent' });
    expect(
      applyDelivery(
        snap({ state: 'sms_pending' }),
        { type: 'sms_refused', error: 'SMSRU_220', permanent: false },
        policy,
      ),
    ).toMatchObject({ state: 'sms_pending', attempts: 1 });
    expect(
      applyDelivery(
        snap({ state: 'sms_pending', giveUpAt: at(0.5) }),
        { type: 'sms_refused', error: 'SMSRU_220', permanent: false },
        policy,
      ),
    ).toMatchObject({ state: 'failed', wipeCode: true });
  });

  it('WhatsApp delivered while the SMS is still pending: delivered, the SMS never goes', () => {
    expect(
      applyDelivery(
        snap({ state: 'sms_pending', whatsappStatus: 'accepted' }),
        { type: 'whatsapp_status', status: 'delivered', error: null },
        policy,
      ),
    ).toMatchObject({ state: 'delivered' });
  });

  it('cancel closes anything open and wipes; final states stay', () => {
    expect(applyDelivery(snap({ state: 'whatsapp_sent' }), { type: 'cancel' }, policy)).toMatchObject({
      state: 'cancelled',
      wipeCode: true,
    });
    expect(applyDelivery(snap({ state: 'delivered' }), { type: 'cancel' }, policy)).toBeNull();
  });
});
