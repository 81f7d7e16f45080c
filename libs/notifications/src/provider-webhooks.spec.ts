import { createHmac } from 'node:crypto';
import { metaSignatureValid, smsRuStatuses, whatsappStatuses } from './provider-webhooks';

describe('metaSignatureValid', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
  const sig = 'sha256=' + createHmac('sha256', 'app-secret').update(body).digest('hex');
  it('accepts the HMAC-SHA256 of the raw body under the app secret, nothing else', () => {
    expect(metaSignatureValid(body, sig, 'app-secret')).toBe(true);
    expect(metaSignatureValid(body, sig, 'other-secret')).toBe(false);
    expect(metaSignatureValid(Buffer.concat([body, Buffer.from(' ')]), sig, 'app-secret')).toBe(false);
    expect(metaSignatureValid(body, sig.replace('sha256=', 'sha1='), 'app-secret')).toBe(false);
    expect(metaSignatureValid(body, undefined, 'app-secret')).toBe(false);
  });
});

describe('whatsappStatuses', () => {
  it('reads entry[].changes[].value.statuses[] with the first error', () => {
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'WABA',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                statuses: [
                  {
                    id: 'wamid.A',
                    status: 'delivered',
                    timestamp: '1765100000',
                    recipient_id: '79120000000',
                  },
                  {
                    id: 'wamid.B',
                    status: 'failed',
                    errors: [{ code: 131026, title: 'Message undeliverable' }],
                  },
                ],
              },
            },
          ],
        },
      ],
    };
    expect(whatsappStatuses(body)).toEqual([
      { messageId: 'wamid.A', status: 'delivered', error: null },
      { messageId: 'wamid.B', status: 'failed', error: '131026 Message undeliverable' },
    ]);
    expect(whatsappStatuses({ object: 'page', entry: body.entry })).toEqual([]);
  });
});

describe('smsRuStatuses', () => {
  it('reads data[n] lines "sms_status\\n<id>\\n<code>" and skips others', () => {
    expect(
      smsRuStatuses({
        'data[0]': 'sms_status\n000000-10000001\n103\n1765100000',
        'data[1]': 'callback_check\n1765100000',
        data: ['sms_status\n000000-10000002\n104'],
      }),
    ).toEqual([
      { smsId: '000000-10000001', status: '103' },
      { smsId: '000000-10000002', status: '104' },
    ]);
  });
});
