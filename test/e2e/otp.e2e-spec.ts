import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSmsRu, FakeWhatsApp } from './support/fake-message-providers';
import { eventually, TestSystem } from './support/system';

/**
 * Issue 16.4 and 16.5 acceptance: one-time codes over WhatsApp (authentication template, copy-code button) with
 * SMS fallback, and order-status messages from the CRM outbox. The providers are real HTTP servers speaking the
 * WhatsApp Cloud API and SMS.ru shapes; their status webhooks reach the gateway signed the providers' way.
 */
const FALLBACK_SECONDS = 2;

describe('one-time codes and order-status messages over WhatsApp with SMS fallback', () => {
  let sys: TestSystem;
  let wa: FakeWhatsApp;
  let sms: FakeSmsRu;
  let dir: string;
  const secrets = {
    accessToken: `EAAG${randomBytes(24).toString('hex')}`,
    appSecret: randomBytes(16).toString('hex'),
    verifyToken: `verify-${randomBytes(12).toString('hex')}`,
    apiId: randomUUID().toUpperCase(),
    callbackToken: randomBytes(18).toString('base64url'),
  };
  /** Every code any provider carried, for the database-dump check. */
  const codesSeen = new Set<string>();
  let phoneSeq = 0;
  const newPhone = () => `+7916${String(Date.now()).slice(-5)}${String(++phoneSeq).padStart(2, '0')}`;
  const digits = (phone: string) => phone.replace('+', '');

  const issue = (body: Record<string, unknown>) => sys.post('/v1/otp', body);
  const verify = (body: Record<string, unknown>) => sys.post('/v1/otp/verify', body);
  const waSendTo = async (phone: string) =>
    (await eventually(async () => wa.sends.find((s) => s.body.to === digits(phone)), 20_000))!;
  const smsSendTo = async (phone: string) =>
    (await eventually(async () => sms.sends.find((s) => s.form.to === digits(phone)), 20_000))!;
  const delivery = async (otpId: string) =>
    (
      await sys.sql<Record<string, unknown>>(`SELECT * FROM message_deliveries WHERE otp_id = $1`, [otpId])
    )[0];

  async function cliCredentials(provider: string, value: object): Promise<void> {
    const file = join(dir, `${provider}.json`);
    writeFileSync(file, JSON.stringify(value), { mode: 0o600 });
    const out = await sys.cli('messaging', 'credentials', 'set', provider, '--file', file);
    expect(out).toMatchObject({ provider, stored: true });
    rmSync(file);
  }

  /** A contact with a phone and a deal of the test peer, as the website connector writes them. */
  async function deal(
    phone: string,
    externalId = `ORD-${randomBytes(4).toString('hex')}`,
  ): Promise<{ id: string; contactId: string; externalId: string }> {
    const [c] = await sys.sql<{ id: string }>(
      `INSERT INTO contacts (name, phones) VALUES ('Anna', $1) RETURNING id`,
      [[phone]],
    );
    const [d] = await sys.sql<{ id: string }>(
      `INSERT INTO deals (peer_id, external_id, contact_id, title, status, amount, currency, source_created_at,
                          source_updated_at, last_event_id)
       VALUES ($1, $2, $3, 'Order', 'new', 100, 'RUB', now(), now(), gen_random_uuid()) RETURNING id`,
      [sys.peerId, externalId, c.id],
    );
    return { id: d.id, contactId: c.id, externalId };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-otp-'));
    wa = await new FakeWhatsApp(secrets.appSecret, secrets.accessToken).start();
    sms = await new FakeSmsRu(secrets.apiId).start();
    sys = new TestSystem('otp', {
      WHATSAPP_API_BASE_URL: wa.url,
      SMS_API_BASE_URL: sms.url,
      WHATSAPP_FALLBACK_SECONDS: String(FALLBACK_SECONDS),
      NOTIFICATIONS_POLL_INTERVAL_MS: '100',
      OTP_RATE_PER_PHONE: '3',
      OTP_RATE_PER_ADDRESS: '1000',
    });
    await sys.start(['gateway', 'outbound']);
    wa.webhookUrl = `${sys.app('gateway').url}/v1/messaging/whatsapp`;
    sms.callbackUrl = `${sys.app('gateway').url}/v1/messaging/smsru/${secrets.callbackToken}`;
    await cliCredentials('whatsapp', {
      accessToken: secrets.accessToken,
      phoneNumberId: '106540352242922',
      appSecret: secrets.appSecret,
      verifyToken: secrets.verifyToken,
    });
    await cliCredentials('smsru', { apiId: secrets.apiId, callbackToken: secrets.callbackToken });
  });

  afterAll(async () => {
    await sys?.destroy();
    await wa?.close();
    await sms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let deliveredCode: { otpId: string; code: string } | null = null;

  it('WhatsApp delivered: the code goes by the authentication template (copy-code button), is verified, no SMS', async () => {
    const phone = newPhone();
    const res = await issue({ phone, purpose: 'login' });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as { otpId: string; channel: string; expiresAt: string };
    expect(issued.channel).toBe('whatsapp');
    const ttl = Date.parse(issued.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(280_000);
    expect(ttl).toBeLessThanOrEqual(300_000);

    const sent = await waSendTo(phone);
    const code = FakeWhatsApp.codeOf(sent);
    codesSeen.add(code);
    expect(code).toMatch(/^\d{6}$/);
    expect(sent.body).toMatchObject({
      messaging_product: 'whatsapp',
      type: 'template',
      template: {
        name: 'otp_code',
        language: { code: 'ru' },
        components: [
          { type: 'body', parameters: [{ type: 'text', text: code }] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: code }] },
        ],
      },
    });
    // The status webhooks (sent, delivered) arrive signed; the attempt is delivered and the sealed copy wiped.
    const row = await eventually(async () => {
      const d = await delivery(issued.otpId);
      return d.state === 'delivered' ? d : null;
    });
    expect(row).toMatchObject({ channel: 'whatsapp', whatsapp_status: 'delivered', sealed_code: null });

    const ok = await verify({ otpId: issued.otpId, code });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ otpId: issued.otpId, purpose: 'login', phone });
    expect(sms.sends.filter((s) => s.form.to === digits(phone))).toEqual([]);
    deliveredCode = { otpId: issued.otpId, code };
  });

  it('a used code is refused: OTP_USED', async () => {
    const res = await verify(deliveredCode!);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await res.json()).toMatchObject({ code: 'OTP_USED' });
  });

  it('WhatsApp silent: the same code goes by SMS after the configured time, and is verified', async () => {
    const phone = newPhone();
    wa.behaviour.set(digits(phone), 'silent');
    const t0 = Date.now();
    const issued = (await (await issue({ phone, purpose: 'confirm' })).json()) as { otpId: string };
    const waCode = FakeWhatsApp.codeOf(await waSendTo(phone));
    const text = await smsSendTo(phone);
    const elapsed = text.at - t0;
    expect(elapsed).toBeGreaterThanOrEqual(FALLBACK_SECONDS * 1000 - 200);
    expect(elapsed).toBeLessThan(FALLBACK_SECONDS * 1000 + 5000);
    const smsCode = FakeSmsRu.codeOf(text);
    codesSeen.add(smsCode);
    expect(smsCode).toBe(waCode);
    expect(text.form).toMatchObject({ api_id: secrets.apiId, to: digits(phone), json: '1' });

    // SMS.ru's callback (103 delivered) updates the attempt.
    await eventually(async () => (await delivery(issued.otpId)).state === 'delivered');
    expect(await delivery(issued.otpId)).toMatchObject({
      channel: 'sms',
      sms_status: '103',
      sealed_code: null,
    });
    const res = await verify({ otpId: issued.otpId, code: smsCode });
    expect(res.status).toBe(200);
  });

  it('WhatsApp reports 131026 undeliverable: SMS goes at once, before the fallback time', async () => {
    const phone = newPhone();
    wa.behaviour.set(digits(phone), 'fail');
    const issued = (await (await issue({ phone, purpose: 'login' })).json()) as { otpId: string };
    const waSent = await waSendTo(phone);
    const text = await smsSendTo(phone);
    codesSeen.add(FakeSmsRu.codeOf(text));
    expect(text.at - waSent.at).toBeLessThan(FALLBACK_SECONDS * 1000);
    expect(await delivery(issued.otpId)).toMatchObject({
      whatsapp_status: 'failed',
      whatsapp_error: '131026 Message undeliverable',
    });
  });

  it('five wrong codes lock the code: then even the right one is OTP_LOCKED', async () => {
    const phone = newPhone();
    const issued = (await (await issue({ phone, purpose: 'login' })).json()) as { otpId: string };
    const code = FakeWhatsApp.codeOf(await waSendTo(phone));
    codesSeen.add(code);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const answers: Array<[number, string]> = [];
    for (let i = 0; i < 5; i++) {
      const res = await verify({ otpId: issued.otpId, code: wrong });
      answers.push([res.status, ((await res.json()) as { code: string }).code]);
    }
    expect(answers).toEqual(Array(5).fill([422, 'OTP_INVALID']));
    const locked = await verify({ otpId: issued.otpId, code });
    expect(locked.status).toBe(423);
    expect(await locked.json()).toMatchObject({ code: 'OTP_LOCKED' });
    const [row] = await sys.sql(`SELECT state, attempts FROM otp_codes WHERE id = $1`, [issued.otpId]);
    expect(row).toEqual({ state: 'locked', attempts: 5 });
  });

  it('a delivery code is bound to its deal: the right code for deal Y does not confirm deal X', async () => {
    const phone = newPhone();
    const x = await deal(phone);
    const y = await deal(phone);
    const noDeal = await issue({ phone, purpose: 'delivery' });
    expect(noDeal.status).toBe(400);
    expect(await noDeal.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    const issued = (await (await issue({ phone, purpose: 'delivery', dealId: x.id })).json()) as {
      otpId: string;
    };
    const code = FakeWhatsApp.codeOf(await waSendTo(phone));
    codesSeen.add(code);
    const other = await verify({ otpId: issued.otpId, code, dealId: y.id });
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ code: 'OTP_INVALID' });
    const right = await verify({ otpId: issued.otpId, code, dealId: x.id });
    expect(right.status).toBe(200);
    expect(await right.json()).toMatchObject({ dealId: x.id, purpose: 'delivery' });
  });

  it('rate limit per phone: the fourth code within the window is a 429 problem with Retry-After', async () => {
    const phone = newPhone();
    for (let i = 0; i < 3; i++) expect((await issue({ phone, purpose: 'login' })).status).toBe(201);
    const res = await issue({ phone, purpose: 'login' });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(await res.json()).toMatchObject({ code: 'OTP_RATE_LIMITED' });
    expect((await sys.sql(`SELECT count(*)::int AS n FROM otp_codes WHERE phone = $1`, [phone]))[0]).toEqual({
      n: 3,
    });
    // Let the sender finish these before the dump check (their codes are collected there).
    await eventually(async () => wa.sends.filter((s) => s.body.to === digits(phone)).length === 3);
    wa.sends.filter((s) => s.body.to === digits(phone)).forEach((s) => codesSeen.add(FakeWhatsApp.codeOf(s)));
  });

  it('bad input is a 400 problem and stores nothing', async () => {
    const before = (await sys.sql<{ n: number }>(`SELECT count(*)::int AS n FROM otp_codes`))[0].n;
    for (const body of [
      { phone: 'not a phone', purpose: 'login' },
      { phone: newPhone(), purpose: 'wire' },
      { phone: newPhone(), purpose: 'login', extra: 1 },
    ]) {
      const res = await issue(body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    const res = await verify({ otpId: randomUUID(), code: '12345' });
    expect(res.status).toBe(400);
    expect((await sys.sql<{ n: number }>(`SELECT count(*)::int AS n FROM otp_codes`))[0].n).toBe(before);
  });

  it('an accepted code survives a sender restart: issued while apps/outbound is down, sent once it is back', async () => {
    await sys.app('outbound').kill('SIGTERM');
    const phone = newPhone();
    const res = await issue({ phone, purpose: 'login' });
    expect(res.status).toBe(201);
    expect(wa.sends.some((s) => s.body.to === digits(phone))).toBe(false);
    await sys.startApp('outbound');
    const sent = await waSendTo(phone);
    codesSeen.add(FakeWhatsApp.codeOf(sent));
    expect(wa.sends.filter((s) => s.body.to === digits(phone))).toHaveLength(1);
  });

  it('provider webhooks are checked their own way: bad X-Hub-Signature-256 401, handshake needs the verify token, SMS.ru needs the secret URL', async () => {
    const gw = sys.app('gateway').url;
    expect(await wa.postStatus('wamid.nope', '79160000000', 'delivered', 'wrong-secret')).toBe(401);
    expect(await wa.postStatus('wamid.unknown', '79160000000', 'delivered')).toBe(200);
    const ok = await fetch(
      `${gw}/v1/messaging/whatsapp?hub.mode=subscribe&hub.verify_token=${secrets.verifyToken}&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const bad = await fetch(
      `${gw}/v1/messaging/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`,
    );
    expect(bad.status).toBe(401);
    const smsBad = await fetch(`${gw}/v1/messaging/smsru/not-the-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'data%5B0%5D=sms_status%0A1%0A103',
    });
    expect(smsBad.status).toBe(401);
  });

  it('every provider call is in the access log as an outbound record', async () => {
    // The writer batches off the request path: wait until every call the fakes saw is recorded.
    const counts = async () => {
      const rows = await sys.sql<{ service: string; n: number }>(
        `SELECT service, count(*)::int AS n FROM access_log WHERE direction = 'outbound' GROUP BY service`,
      );
      const by = Object.fromEntries(rows.map((r) => [r.service, r.n]));
      return { whatsapp: by['whatsapp.messages'] ?? 0, sms: by['smsru.sms.send'] ?? 0 };
    };
    const expected = { whatsapp: wa.sends.length, sms: sms.sends.length };
    expect(expected.whatsapp).toBeGreaterThan(5);
    expect(expected.sms).toBeGreaterThan(1);
    await eventually(async () => JSON.stringify(await counts()) === JSON.stringify(expected), 10_000).catch(
      () => undefined,
    );
    expect(await counts()).toEqual(expected);
    // and counted on the sender's /metrics (since its last restart)
    const metrics = await (await fetch(`${sys.app('outbound').url}/metrics`)).text();
    expect(metrics).toMatch(
      /^switchboard_messages_sent_total\{kind="otp",channel="whatsapp",outcome="accepted"\} [1-9]/m,
    );
  });

  describe('order-status messages (crm.deal.status_changed from the CRM outbox)', () => {
    /** What a producer does: CrmChangesRepository.record() in the transaction of the change. */
    async function statusChanged(d: { id: string; contactId: string }, status: string): Promise<string> {
      const [row] = await sys.sql<{ seq: string }>(
        `INSERT INTO crm_changes (type, aggregate_key, contact_id, deal_id, payload, occurred_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::jsonb[], $6::timestamptz[])
         RETURNING seq::text`,
        [
          ['crm.deal.status_changed'],
          [`contact:${d.contactId}`],
          [d.contactId],
          [d.id],
          [JSON.stringify({ dealId: d.id, status, previousStatus: 'new' })],
          [new Date().toISOString()],
        ],
      );
      return row.seq;
    }

    it('one message per configured status change, from its template; none for other statuses; none again after a restart', async () => {
      const phone = newPhone();
      const d = await deal(phone, `ORD-${Date.now()}`);
      await statusChanged(d, 'confirmed'); // not configured: no message
      const seq = await statusChanged(d, 'shipped');
      const sent = await waSendTo(phone);
      expect(sent.body.template).toMatchObject({
        name: 'order_shipped',
        language: { code: 'ru' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: d.externalId },
              { type: 'text', text: 'shipped' },
            ],
          },
        ],
      });
      await eventually(async () => {
        const [m] = await sys.sql(`SELECT state FROM message_deliveries WHERE change_seq = $1`, [seq]);
        return m?.state === 'delivered';
      });
      // Restart the sender: the cursor and the unique change_seq keep it at one message.
      await sys.app('outbound').kill('SIGTERM');
      await sys.sql(`UPDATE crm_change_cursors SET seq = 0 WHERE consumer = 'order-status-messages'`);
      await sys.startApp('outbound');
      await eventually(async () => {
        const [c] = await sys.sql<{ seq: string }>(
          `SELECT seq::text FROM crm_change_cursors WHERE consumer = 'order-status-messages'`,
        );
        return BigInt(c.seq) >= BigInt(seq);
      });
      expect(wa.sends.filter((s) => s.body.to === digits(phone))).toHaveLength(1);
      expect(
        await sys.sql(`SELECT count(*)::int AS n FROM message_deliveries WHERE deal_id = $1`, [d.id]),
      ).toEqual([{ n: 1 }]);
    });

    it('WhatsApp silent: the order-status message falls back to SMS with the status text', async () => {
      const phone = newPhone();
      wa.behaviour.set(digits(phone), 'silent');
      const d = await deal(phone);
      await statusChanged(d, 'delivered');
      const text = await smsSendTo(phone);
      expect(text.form.msg).toBe(`Заказ ${d.externalId} доставлен. Спасибо!`);
    });
  });

  it('no code and no provider secret is readable in a database dump', async () => {
    const dump = await new Promise<string>((resolve, reject) =>
      execFile(
        'pg_dump',
        ['--data-only', '--no-owner', sys.databaseUrl],
        { maxBuffer: 256 * 1024 * 1024 },
        (err, out) => (err ? reject(new Error(`pg_dump failed: ${err.message}`)) : resolve(out)),
      ),
    );
    expect(dump).toContain('message_deliveries'); // the dump did include our tables
    expect(codesSeen.size).toBeGreaterThanOrEqual(8);
    const leaked = [...codesSeen].filter((c) =>
      new RegExp(`(^|[^0-9a-zA-Z_-])${c}([^0-9a-zA-Z_-]|$)`, 'm').test(dump),
    );
    expect(leaked).toEqual([]);
    for (const [name, value] of Object.entries(secrets))
      expect([name, dump.includes(value)]).toEqual([name, false]);
  });
});
