import { isTildaTest, verifyTilda } from '@switchboard/peer-auth';
import type { HandshakeReply, ProviderAdapter } from '../provider-adapter';
import { violation } from './order-mapping';

const TEST_REPLY: HandshakeReply = { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };

/**
 * Tilda form webhooks, connection check only: Tilda refuses to save a webhook whose URL does not answer its
 * `test=test` POST with 200, so that is answered (publishing nothing). Form leads themselves need a lead
 * contract, which does not exist yet; until then they are refused visibly (400) rather than half-recorded.
 */
export const tildaAdapter: ProviderAdapter = {
  provider: 'tilda',

  verify: (req, secret) => verifyTilda(req, secret),

  handshake: (req) => (isTildaTest(req) ? TEST_REPLY : null),

  toEvents() {
    throw violation(
      '',
      'unsupportedProvider',
      'Tilda form leads are not accepted yet (no lead contract); only the test=test connection check is answered',
    );
  },
};
