// The lead bench's traffic: bodies for POST /v1/website/leads (website.lead.submitted v1), as a busy site's forms
// would send them.
//
// About `repeat` of the requests (30 % by default) come from people who sent one before in the run: half the
// same request again (same form and message: collapsed into the first as a repeat), half another form (attached
// to their open lead as a history entry). The rest are new people: each makes exactly one lead. Phones are valid
// RU mobiles written the way people type them (`8 (916) 000-00-07`), about a third also give an email; 10 % are
// callback requests (a call-back task per phone), 2 % are bots filling the honeypot (kept as `junk`, never
// repeated, so each makes one lead too). Every body has a unique submissionId: the gateway's idempotency key,
// which the bench uses to check what was acknowledged against what the connector recorded.

const FORMS = ['contact-us', 'price-request', 'quiz-kitchen', 'footer-subscribe'];
const MESSAGES = ['Need a quote', 'Call me after 18:00', 'Do you deliver to Kazan?', null];

/** `+79160000007` as people type it. */
const national = (e164) =>
  `8 (${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8, 10)}-${e164.slice(10)}`;

/**
 * A stream of { key, person, body } (key = submissionId). `operator` is the 3-digit mobile code of the stream
 * (each stream of one run uses its own, so their people never meet); `seed` makes it reproducible.
 */
export function createLeadMix({ prefix, operator = '916', repeat = 0.3, seed = 1 }) {
  let state = seed >>> 0 || 1;
  // xorshift32: the same run of bodies for the same seed, without a dependency.
  const random = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const people = [];
  let n = 0;
  let fresh = 0;
  const stats = { sent: 0, repeats: 0, junk: 0, callbacks: 0 };
  const newPerson = () => {
    fresh += 1;
    const phone = `+7${operator}${String(fresh).padStart(7, '0')}`;
    return {
      id: phone,
      name: `Bench Person ${fresh}`,
      phone,
      email: fresh % 3 === 0 ? `p${fresh}.${prefix}@bench.example`.toLowerCase() : undefined,
      formId: pick(FORMS),
      message: pick(MESSAGES),
    };
  };
  return {
    stats,
    /** Distinct people sent so far (each should end as exactly one lead). */
    get people() {
      return fresh;
    },
    next() {
      n += 1;
      stats.sent += 1;
      const key = `${prefix}-${n}`;
      const occurredAt = new Date().toISOString();
      const r = random();
      let person;
      let body;
      if (r < 0.02) {
        // A bot: honeypot filled, one request per "person".
        person = newPerson();
        stats.junk += 1;
        body = { kind: 'form', formId: 'contact-us', name: person.name, phone: person.phone, honeypot: 'x' };
      } else if (people.length > 0 && r < 0.02 + repeat) {
        person = pick(people);
        stats.repeats += 1;
        const same = random() < 0.5;
        body = {
          kind: 'form',
          formId: same ? person.formId : `${person.formId}-2`,
          name: person.name,
          phone: national(person.phone),
          email: person.email,
          message: same ? person.message : 'One more question',
        };
      } else {
        person = newPerson();
        people.push(person);
        const callback = random() < 0.1;
        if (callback) stats.callbacks += 1;
        body = {
          kind: callback ? 'callback' : 'form',
          formId: person.formId,
          formName: 'Bench form',
          name: person.name,
          phone: national(person.phone),
          email: person.email,
          message: person.message,
          pageUrl: 'https://shop.example/kettles',
          utm: { source: 'yandex', medium: 'cpc', campaign: 'bench' },
        };
      }
      return {
        key,
        person: person.id,
        body: JSON.stringify({ ...body, submissionId: key, occurredAt }),
      };
    },
  };
}
