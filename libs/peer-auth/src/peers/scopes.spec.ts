import { PEER_KINDS, PEER_PROVIDERS } from './model';
import { defaultScopes, scopeAllows } from './scopes';

describe('defaultScopes', () => {
  it.each([
    ['telephony', 'twilio', 'telephony.call.completed'],
    ['telephony', 'mango', 'telephony.call.ended'],
    ['website', 'shopify', 'website.order.submitted'],
    ['website', 'woocommerce', 'website.order.submitted'],
    ['website', 'generic', 'website.order.submitted'],
    ['telephony', 'generic', 'telephony.call.started'],
  ] as const)('lets a %s peer of %s send %s', (kind, provider, type) => {
    expect(scopeAllows(defaultScopes(kind, provider), type)).toBe(true);
  });

  it('gives a shop only orders and a PBX nothing of the website area', () => {
    expect(defaultScopes('website', 'shopify')).toEqual(['website.order.submitted']);
    expect(scopeAllows(defaultScopes('telephony', 'twilio'), 'website.order.submitted')).toBe(false);
  });

  it('has a default for every kind and provider, never "*"', () => {
    for (const kind of PEER_KINDS)
      for (const provider of PEER_PROVIDERS) {
        const scopes = defaultScopes(kind, provider);
        expect(scopes.length).toBeGreaterThan(0);
        expect(scopes).not.toContain('*');
      }
  });
});
