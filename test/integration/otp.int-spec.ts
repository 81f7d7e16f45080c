import { randomBytes } from 'node:crypto';
import type { AppConfig } from '@switchboard/config';
import { OtpError } from '@switchboard/contracts';
import { DeliveriesStore, NotificationsDb, OtpStore, ProviderCredentials } from '@switchboard/notifications';
import { CredentialHasher } from '@switchboard/peer-auth';
import { Keyring, SecretBox } from '@switchboard/secrets';
import { useIntegrationDb } from './support/db';

/**
 * The one-time code SQL under concurrency, on the real migrations: the per-phone limit holds when requests
 * race (advisory lock), a right code raced twice verifies once (row lock), and two senders never claim the
 * same delivery (SKIP LOCKED).
 */
const db = useIntegrationDb();
let store: OtpStore;
let deliveries: DeliveriesStore;
let notificationsDb: NotificationsDb;
const hasher = new CredentialHasher(randomBytes(32));
const box = new SecretBox(new Keyring([{ id: 'k1', key: randomBytes(32) }]));

beforeAll(async () => {
  const config = {
    database: { url: (db().options as { url: string }).url },
    notifications: {
      otp: {
        ttlSeconds: 300,
        maxAttempts: 5,
        rate: {
          perPhone: 3,
          perPhoneWindowSeconds: 600,
          perPeer: 1000,
          perPeerWindowSeconds: 3600,
          perAddress: 1000,
          perAddressWindowSeconds: 600,
        },
        whatsappTemplate: 'otp_code',
        language: 'ru',
        smsText: 'Код {code}',
      },
      whatsappFallbackSeconds: 30,
    },
  } as unknown as AppConfig;
  notificationsDb = new NotificationsDb(config);
  await ProviderCredentials.set(notificationsDb, box, 'smsru', { apiId: 'x', callbackToken: 'y' });
  store = new OtpStore(notificationsDb, hasher, box, new ProviderCredentials(notificationsDb, box), config);
  deliveries = new DeliveriesStore(notificationsDb);
});

afterAll(() => notificationsDb.onApplicationShutdown());

it('ten codes for one phone at once: exactly the limit (3) are issued, the rest OTP_RATE_LIMITED', async () => {
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, () =>
      store.issue('shop', '10.0.0.1', { phone: '+79160000001', purpose: 'login', dealId: null }),
    ),
  );
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  const refused = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as OtpError);
  expect(refused.map((e) => e.code)).toEqual(Array(7).fill('OTP_RATE_LIMITED'));
  expect(refused.every((e) => (e.retryAfterSeconds ?? 0) > 0)).toBe(true);
});

it('the right code verified twice at once: one success, one OTP_USED', async () => {
  const issued = await store.issue('shop', null, { phone: '+79160000002', purpose: 'login', dealId: null });
  const [row] = await notificationsDb.query<{ sealed_code: string }>(
    `SELECT sealed_code FROM message_deliveries WHERE otp_id = $1`,
    [issued.otpId],
  );
  const code = box.openString(row.sealed_code, `otp:${issued.otpId}:code`);
  const results = await Promise.allSettled([
    store.verify('shop', { otpId: issued.otpId, code, dealId: null }),
    store.verify('shop', { otpId: issued.otpId, code, dealId: null }),
  ]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  expect(results.filter((r) => r.status === 'rejected').map((r) => (r.reason as OtpError).code)).toEqual([
    'OTP_USED',
  ]);
  // used: the sealed copy is gone and the delivery closed
  const [after] = await notificationsDb.query(
    `SELECT sealed_code, state FROM message_deliveries WHERE otp_id = $1`,
    [issued.otpId],
  );
  expect(after).toEqual({ sealed_code: null, state: 'cancelled' });
});

it('another peer cannot verify or probe a code: OTP_INVALID, no attempt spent', async () => {
  const issued = await store.issue('shop', null, { phone: '+79160000003', purpose: 'login', dealId: null });
  await expect(
    store.verify('other-shop', { otpId: issued.otpId, code: '000000', dealId: null }),
  ).rejects.toMatchObject({ code: 'OTP_INVALID' });
  expect(await notificationsDb.query(`SELECT attempts FROM otp_codes WHERE id = $1`, [issued.otpId])).toEqual(
    [{ attempts: 0 }],
  );
});

it('two senders claiming at once never get the same delivery', async () => {
  for (let i = 0; i < 6; i++)
    await store.issue('shop', null, { phone: `+7916000010${i}`, purpose: 'confirm', dealId: null });
  const due = await notificationsDb.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM message_deliveries WHERE state = 'sms_pending' AND next_attempt_at <= now()`,
  );
  const [a, b] = await Promise.all([deliveries.claimDue(100), deliveries.claimDue(100)]);
  const ids = [...a, ...b].map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBe(due[0].n);
  // claimed rows are leased: a third claim right after finds none of them
  const again = await deliveries.claimDue(100);
  expect(again.filter((r) => ids.includes(r.id))).toEqual([]);
});
