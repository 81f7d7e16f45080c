import { verifyTaplink } from '@switchboard/peer-auth';
import type { ProviderAdapter } from '../provider-adapter';
import { fieldsOf, leadEvent, pick } from './lead-mapping';
import { record, violation } from './order-mapping';

/**
 * Taplink "new lead" webhooks (JSON mode, `taplink-signature` = HMAC-SHA1 of the raw body, see
 * https://taplink.ru/dev/webhooks.html) -> website.lead.submitted. The documented fields are mapped (name,
 * email, phone, contact_id); a payment notification (it carries no contact fields) is understood and recorded
 * as nothing.
 */
export const taplinkAdapter: ProviderAdapter = {
  provider: 'taplink',

  verify: (req, secret) => verifyTaplink(req, secret),

  toEvents(req) {
    const body = record(req.body);
    if (Object.keys(body).length === 0)
      throw violation('', 'isNotEmpty', 'a Taplink webhook carries a JSON object');
    const fields = fieldsOf(body);
    const name = pick(fields, 'name');
    const phone = pick(fields, 'phone');
    const email = pick(fields, 'email');
    const leadId = pick(fields, 'lead_id', 'id');
    const contactId = pick(fields, 'contact_id');
    if (!name && !phone && !email && pick(fields, 'payment_id', 'amount')) return [];
    return [
      leadEvent(
        {
          kind: 'form',
          formId: pick(fields, 'block_id'),
          name,
          phone,
          email,
          message: pick(fields, 'message', 'comment', 'text'),
          siteCustomerId: contactId,
          submissionId: leadId ? `taplink:${leadId}` : undefined,
          occurredAt: new Date().toISOString(),
        },
        leadId ? `taplink:${leadId}` : undefined,
      ),
    ];
  },
};
