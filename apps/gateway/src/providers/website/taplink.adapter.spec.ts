import { signTaplink } from '@switchboard/peer-auth';
import type { ProviderRequest } from '../provider-adapter';
import { taplinkAdapter } from './taplink.adapter';

// Fields as documented at https://taplink.ru/dev/webhooks.html (synthetic values; no sample payload is published).
const lead = {
  profile_id: 1,
  username: 'shop',
  lead_id: 77,
  name: 'Anna',
  email: 'anna@example.com',
  phone: '+79123456789',
  contact_id: 5,
  block_id: 9,
};
const request = (body: object, signature?: string): ProviderRequest => {
  const raw = JSON.stringify(body);
  return {
    method: 'POST',
    url: 'https://sb.example/v1/providers/taplink/shop',
    headers: { 'content-type': 'application/json', ...(signature ? { 'taplink-signature': signature } : {}) },
    rawBody: Buffer.from(raw),
    body,
    query: {},
  };
};

describe('taplinkAdapter', () => {
  it('verifies the HMAC-SHA1 signature of the raw body', () => {
    const raw = JSON.stringify(lead);
    expect(taplinkAdapter.verify(request(lead, signTaplink(raw, 's3')), 's3')).toEqual({ ok: true });
    expect(taplinkAdapter.verify(request(lead, signTaplink(raw, 'other')), 's3')).toMatchObject({
      ok: false,
    });
  });

  it('maps a new lead to website.lead.submitted', () => {
    const [event] = taplinkAdapter.toEvents(request(lead), { id: 'shop', timezone: null });
    expect(event).toMatchObject({
      type: 'website.lead.submitted',
      idempotencyKey: 'taplink:77',
      payload: {
        kind: 'form',
        name: 'Anna',
        phone: '+79123456789',
        email: 'anna@example.com',
        siteCustomerId: '5',
      },
    });
  });
});
