import { createHash } from 'node:crypto';
import { bodyFields, redactBody } from './body';
import { claimedPeerId, credentialIdOf } from './claimed-peer';

const TOKEN = 'sbp_AbCdEf123456_abcdefghijklmnopqrstuvwxyzABCDEF123456';
const credentials: Record<string, string> = { AbCdEf123456: 'shop-from-token' };
const lookup = (id: string) => credentials[id];
const basic = (user: string, pass = TOKEN) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('claimedPeerId', () => {
  it('reads the provider route :peerId first', () => {
    expect(
      claimedPeerId(
        { headers: { 'x-peer-id': 'other' }, params: { provider: 'woo', peerId: 'woo-shop' } },
        lookup,
      ),
    ).toBe('woo-shop');
  });

  it('reads X-Peer-Id, then the Basic user, then the login field', () => {
    expect(claimedPeerId({ headers: { 'x-peer-id': 'signer', authorization: basic('b') } }, lookup)).toBe(
      'signer',
    );
    expect(claimedPeerId({ headers: { authorization: basic('basic-user') }, login: 'x-login' }, lookup)).toBe(
      'basic-user',
    );
    expect(claimedPeerId({ headers: {}, login: 'legacy-erp' }, lookup)).toBe('legacy-erp');
  });

  it('maps the public credential id of a bearer / X-Api-Key / access_token token to its peer', () => {
    expect(claimedPeerId({ headers: { authorization: `Bearer ${TOKEN}` } }, lookup)).toBe('shop-from-token');
    expect(claimedPeerId({ headers: { 'x-api-key': TOKEN } }, lookup)).toBe('shop-from-token');
    expect(claimedPeerId({ headers: {}, query: { access_token: TOKEN } }, lookup)).toBe('shop-from-token');
    // A wrong secret or checksum still names the credential: the claim is what was presented.
    expect(claimedPeerId({ headers: { authorization: `Bearer ${TOKEN.slice(0, 20)}zz` } }, lookup)).toBe(
      'shop-from-token',
    );
    expect(claimedPeerId({ headers: { authorization: 'Bearer sbp_Unknown12345_x' } }, lookup)).toBeNull();
  });

  it('returns null when nothing is claimed, and never returns a secret or a non-slug', () => {
    expect(claimedPeerId({ headers: {} }, lookup)).toBeNull();
    expect(claimedPeerId({ headers: { authorization: 'Bearer not-a-token' } }, lookup)).toBeNull();
    // A token pasted as the Basic user name, a huge or odd login: not a peer id, not stored.
    expect(claimedPeerId({ headers: { authorization: basic(TOKEN, 'x') } }, lookup)).toBeNull();
    expect(claimedPeerId({ headers: {}, login: 'x'.repeat(200) }, lookup)).toBeNull();
    expect(claimedPeerId({ headers: { 'x-peer-id': 'Robert"); DROP' } }, lookup)).toBeNull();
    expect(claimedPeerId({ headers: {}, login: { $ne: 1 } }, lookup)).toBeNull();
  });

  it('credentialIdOf reads only the public part', () => {
    expect(credentialIdOf(TOKEN)).toBe('AbCdEf123456');
    expect(credentialIdOf('sbp_short_x')).toBeNull();
    expect(credentialIdOf(undefined)).toBeNull();
  });
});

describe('bodyFields', () => {
  const raw = Buffer.from('{"login":"shop","password":"' + TOKEN + '","total":1}');

  it('hash: sha256 hex of the raw bytes, no body', () => {
    expect(bodyFields(raw, 'hash')).toEqual({
      bodyHash: createHash('sha256').update(raw).digest('hex'),
      body: null,
    });
  });

  it('none, or no body: nothing', () => {
    expect(bodyFields(raw, 'none')).toEqual({ bodyHash: null, body: null });
    expect(bodyFields(undefined, 'hash')).toEqual({ bodyHash: null, body: null });
    expect(bodyFields(Buffer.alloc(0), 'full')).toEqual({ bodyHash: null, body: null });
  });

  it('full: the text, with tokens and passwords masked', () => {
    const { body } = bodyFields(raw, 'full');
    expect(body).toBe('{"login":"shop","password":"[redacted]","total":1}');
    expect(redactBody(`login=shop&password=${TOKEN}&x=1`)).toBe('login=shop&password=[redacted]&x=1');
    expect(redactBody(`{"note":"${TOKEN}\u0000"}`)).toBe('{"note":"sbp_[redacted]"}');
  });
});
