import { isTildaTest, verifyTilda } from '@switchboard/peer-auth';
import type { HandshakeReply, ProviderAdapter, ProviderRequest } from '../provider-adapter';
import { analyticsClientIdOf, fieldsOf, leadEvent, pick, utmOf } from './lead-mapping';
import { record, violation } from './order-mapping';

const TEST_REPLY: HandshakeReply = { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };

/** Tilda's own fields and the API key: not the person's answers, so not part of the message. */
const SYSTEM_FIELDS = new Set(['tranid', 'formid', 'formname', 'cookies', 'x_api_key', 'api_key', 'test']);

/**
 * Tilda form webhooks (form-urlencoded, or JSON from form integrations) -> website.lead.submitted. Tilda's
 * `test=test` connection check is answered 200 (publishing nothing): it refuses to save a webhook whose URL does
 * not. Field names are the form's own variable names in any case (`Name`/`name`); `tranid` is the submission's
 * identity; UTM comes from hidden fields or the page URL; the analytics id from `COOKIES` when sent.
 */
export const tildaAdapter: ProviderAdapter = {
  provider: 'tilda',

  verify(req, secret) {
    const result = verifyTilda(req, secret);
    if (result.ok || result.reason !== 'missing') return result;
    // Form integrations may send the API key as a JSON body field instead of a header.
    const key = pick(fieldsOf(record(req.body)), 'x_api_key', 'api_key');
    return key === undefined
      ? result
      : verifyTilda({ ...req, headers: { ...req.headers, 'x-api-key': key } }, secret);
  },

  handshake: (req) => (isTildaTest(req) ? TEST_REPLY : null),

  toEvents(req: ProviderRequest) {
    const body = record(req.body);
    const fields = fieldsOf(body);
    if (fields.size === 0) throw violation('', 'isNotEmpty', 'a Tilda form post carries the form fields');
    const referer = req.headers.referer ?? req.headers.Referer;
    const pageUrl = typeof referer === 'string' ? referer.slice(0, 2000) : undefined;
    const name = pick(fields, 'name', 'fio', 'имя');
    const phone = pick(fields, 'phone', 'tel', 'телефон');
    const email = pick(fields, 'email', 'e_mail', 'mail');
    const message = pick(fields, 'message', 'comments', 'comment', 'textarea', 'text', 'сообщение');
    const used = new Set(['name', 'fio', 'имя', 'phone', 'tel', 'телефон', 'email', 'e_mail', 'mail']);
    // Answers the form has beyond the known ones (a quiz's questions) are kept in the message, not dropped.
    const extra = [...fields.entries()]
      .filter(
        ([k]) => !used.has(k) && !SYSTEM_FIELDS.has(k) && !k.startsWith('utm_') && !k.startsWith('payment'),
      )
      .filter(([k]) => !['message', 'comments', 'comment', 'textarea', 'text', 'сообщение'].includes(k))
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const fullMessage = [message, ...extra].filter(Boolean).join('\n') || undefined;
    const tranid = pick(fields, 'tranid');
    const formName = pick(fields, 'formname');
    const kind = /callback|обратн|перезвон/i.test(formName ?? '') ? 'callback' : 'form';
    return [
      leadEvent(
        {
          kind,
          formId: pick(fields, 'formid'),
          formName,
          name,
          phone,
          email,
          message: fullMessage?.slice(0, 10_000),
          pageUrl,
          utm: utmOf(fields, pageUrl),
          analyticsClientId: analyticsClientIdOf(pick(fields, 'cookies')),
          submissionId: tranid,
          occurredAt: new Date().toISOString(),
        },
        tranid ? `tilda:${tranid}` : undefined,
      ),
    ];
  },
};
