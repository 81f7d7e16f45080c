import { createHmac } from 'node:crypto';
import { signStandardWebhook } from '../signatures';
import { generateWhsec, whsecKey } from './whsec';

describe('whsec_ secrets', () => {
  it('accept only whsec_ + base64 of 24-64 bytes', () => {
    expect(whsecKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBeNull();
    expect(whsecKey('whsec_c2hvcnQ=')).toBeNull();
    expect(whsecKey(`whsec_${Buffer.alloc(65).toString('base64')}`)).toBeNull();
    expect(whsecKey(generateWhsec())).toHaveLength(32);
  });

  it('sign with the decoded key, as the specification says (outbound uses the inbound signer)', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const [id, ts, body] = ['msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'];
    const mac = createHmac('sha256', whsecKey(secret)!).update(`${id}.${ts}.${body}`).digest('base64');
    expect(signStandardWebhook(id, ts, body, whsecKey(secret)!)).toBe(`v1,${mac}`);
    expect(mac).toBe('g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});
