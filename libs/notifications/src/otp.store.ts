import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { ContractViolation, type FieldError, NotFoundError, OtpError } from '@switchboard/contracts';
import { normalizePhone } from '@switchboard/crm';
import { CredentialHasher } from '@switchboard/peer-auth';
import { SecretBox } from '@switchboard/secrets';
import { NotificationsDb } from './notifications.db';
import {
  judgeVerify,
  newOtpCode,
  OTP_PURPOSES,
  otpHashInput,
  otpSealContext,
  rateLimitWait,
  type OtpPurpose,
  type OtpState,
} from './otp.rules';
import { ProviderCredentials } from './provider-credentials';

export interface IssueOtpRequest {
  phone: string;
  purpose: OtpPurpose;
  dealId: string | null;
}
export interface IssuedOtp {
  otpId: string;
  channel: 'whatsapp' | 'sms';
  expiresAt: string;
}
export interface VerifiedOtp {
  otpId: string;
  purpose: OtpPurpose;
  phone: string;
  dealId: string | null;
  verifiedAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODE = /^\d{6}$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function check(errors: FieldError[], ok: boolean, field: string, rule: string, message: string): void {
  if (!ok) errors.push({ field, rule, message });
}

/** `POST /v1/otp` body -> request, or VALIDATION_FAILED listing every problem. */
export function parseIssueBody(body: unknown, defaultRegion = 'RU'): IssueOtpRequest {
  const b = isObject(body) ? body : {};
  const errors: FieldError[] = [];
  check(errors, isObject(body), '', 'isObject', 'the body must be a JSON object');
  const known = new Set(['phone', 'purpose', 'dealId']);
  for (const k of Object.keys(b))
    check(errors, known.has(k), k, 'whitelistValidation', `property ${k} should not exist`);
  const phone = typeof b.phone === 'string' ? normalizePhone(b.phone, defaultRegion) : null;
  check(
    errors,
    phone !== null,
    'phone',
    'isPhoneNumber',
    'phone must be a valid phone number (E.164 preferred)',
  );
  const purpose = b.purpose as OtpPurpose;
  check(
    errors,
    OTP_PURPOSES.includes(purpose),
    'purpose',
    'isIn',
    `purpose must be one of ${OTP_PURPOSES.join(', ')}`,
  );
  const dealId = b.dealId === undefined || b.dealId === null ? null : b.dealId;
  check(
    errors,
    dealId === null || (typeof dealId === 'string' && UUID.test(dealId)),
    'dealId',
    'isUuid',
    'dealId must be a UUID',
  );
  check(
    errors,
    purpose !== 'delivery' || dealId !== null,
    'dealId',
    'isDefined',
    'a delivery code needs the dealId it confirms',
  );
  if (errors.length) throw new ContractViolation(errors);
  return { phone: phone!, purpose, dealId: dealId as string | null };
}

/** `POST /v1/otp/verify` body. */
export function parseVerifyBody(body: unknown): { otpId: string; code: string; dealId: string | null } {
  const b = isObject(body) ? body : {};
  const errors: FieldError[] = [];
  check(errors, isObject(body), '', 'isObject', 'the body must be a JSON object');
  const known = new Set(['otpId', 'code', 'dealId']);
  for (const k of Object.keys(b))
    check(errors, known.has(k), k, 'whitelistValidation', `property ${k} should not exist`);
  check(
    errors,
    typeof b.otpId === 'string' && UUID.test(b.otpId),
    'otpId',
    'isUuid',
    'otpId must be the UUID POST /v1/otp returned',
  );
  check(
    errors,
    typeof b.code === 'string' && CODE.test(b.code),
    'code',
    'matches',
    'code must be six digits (a string)',
  );
  const dealId = b.dealId === undefined || b.dealId === null ? null : b.dealId;
  check(
    errors,
    dealId === null || (typeof dealId === 'string' && UUID.test(dealId)),
    'dealId',
    'isUuid',
    'dealId must be a UUID',
  );
  if (errors.length) throw new ContractViolation(errors);
  return { otpId: b.otpId as string, code: b.code as string, dealId: dealId as string | null };
}

interface OtpRow {
  id: string;
  phone: string;
  purpose: OtpPurpose;
  deal_id: string | null;
  code_hash: string;
  state: OtpState;
  attempts: number;
  max_attempts: number;
  expires_at: Date;
}

/**
 * Issuing and checking one-time codes. The code itself is never stored readable: otp_codes keeps
 * HMAC(pepper, "otp:<id>:<code>"); the sender's copy in message_deliveries is sealed under the keyring and
 * wiped once no channel needs it (see delivery.rules.ts).
 */
@Injectable()
export class OtpStore {
  constructor(
    private readonly db: NotificationsDb,
    private readonly hasher: CredentialHasher,
    private readonly box: SecretBox,
    private readonly credentials: ProviderCredentials,
    private readonly config: AppConfig,
  ) {}

  async issue(
    peerId: string,
    clientIp: string | null,
    req: IssueOtpRequest,
    now = new Date(),
  ): Promise<IssuedOtp> {
    const cfg = this.config.notifications;
    const [whatsapp, sms] = await Promise.all([
      this.credentials.get('whatsapp'),
      this.credentials.get('smsru'),
    ]);
    if (!whatsapp && !sms)
      throw new OtpError(
        'NO_MESSAGE_CHANNEL',
        'Neither WhatsApp nor SMS credentials are configured; no code was issued.',
      );
    const channel = whatsapp ? 'whatsapp' : 'sms';
    const otpId = randomUUID();
    const code = newOtpCode();
    const expiresAt = new Date(now.getTime() + cfg.otp.ttlSeconds * 1000);
    const fallbackAt = new Date(now.getTime() + cfg.whatsappFallbackSeconds * 1000);
    await this.db.tx(async (sql) => {
      if (req.dealId) {
        const deal = await sql.query(`SELECT 1 FROM deals WHERE id = $1 AND peer_id = $2`, [
          req.dealId,
          peerId,
        ]);
        if (!deal.length) throw new NotFoundError(`No deal ${req.dealId} of this peer.`);
      }
      // One phone's requests in line, so two at once cannot both slip under its limit.
      await sql.query(`SELECT pg_advisory_xact_lock(hashtextextended('otp:' || $1, 0))`, [req.phone]);
      const r = cfg.otp.rate;
      const [counts] = await sql.query<Record<string, string | Date | null>>(
        `SELECT
           count(*) FILTER (WHERE phone = $1 AND created_at > $4::timestamptz - make_interval(secs => $5)) AS phone_n,
           min(created_at) FILTER (WHERE phone = $1 AND created_at > $4::timestamptz - make_interval(secs => $5)) AS phone_oldest,
           count(*) FILTER (WHERE peer_id = $2 AND created_at > $4::timestamptz - make_interval(secs => $6)) AS peer_n,
           min(created_at) FILTER (WHERE peer_id = $2 AND created_at > $4::timestamptz - make_interval(secs => $6)) AS peer_oldest,
           count(*) FILTER (WHERE client_ip = $3 AND created_at > $4::timestamptz - make_interval(secs => $7)) AS ip_n,
           min(created_at) FILTER (WHERE client_ip = $3 AND created_at > $4::timestamptz - make_interval(secs => $7)) AS ip_oldest
         FROM otp_codes
         WHERE created_at > $4::timestamptz - make_interval(secs => greatest($5, $6, $7))
           AND (phone = $1 OR peer_id = $2 OR client_ip = $3)`,
        [
          req.phone,
          peerId,
          clientIp,
          now.toISOString(),
          r.perPhoneWindowSeconds,
          r.perPeerWindowSeconds,
          r.perAddressWindowSeconds,
        ],
      );
      const windows = [
        {
          name: 'phone',
          limit: r.perPhone,
          windowSeconds: r.perPhoneWindowSeconds,
          n: 'phone_n',
          oldest: 'phone_oldest',
        },
        {
          name: 'peer',
          limit: r.perPeer,
          windowSeconds: r.perPeerWindowSeconds,
          n: 'peer_n',
          oldest: 'peer_oldest',
        },
        ...(clientIp
          ? [
              {
                name: 'address',
                limit: r.perAddress,
                windowSeconds: r.perAddressWindowSeconds,
                n: 'ip_n',
                oldest: 'ip_oldest',
              },
            ]
          : []),
      ].map((w) => ({ ...w, count: Number(counts[w.n]), oldest: (counts[w.oldest] as Date | null) ?? null }));
      const limited = rateLimitWait(windows, now);
      if (limited.wait > 0)
        throw new OtpError(
          'OTP_RATE_LIMITED',
          `Too many codes requested for this ${limited.name}; try again later.`,
          limited.wait,
        );
      await sql.query(
        `INSERT INTO otp_codes (id, peer_id, phone, purpose, deal_id, code_hash, client_ip, max_attempts, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          otpId,
          peerId,
          req.phone,
          req.purpose,
          req.dealId,
          this.hasher.hash(otpHashInput(otpId, code)),
          clientIp,
          cfg.otp.maxAttempts,
          now.toISOString(),
          expiresAt.toISOString(),
        ],
      );
      // In the same transaction: an accepted code is always sent (the sender picks it up, even after a restart).
      await sql.query(
        `INSERT INTO message_deliveries (id, kind, otp_id, deal_id, phone, template, language, sealed_code, state,
                                         fallback_at, give_up_at, next_attempt_at, created_at, updated_at)
         VALUES ($1, 'otp', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11)`,
        [
          randomUUID(),
          otpId,
          req.dealId,
          req.phone,
          cfg.otp.whatsappTemplate,
          cfg.otp.language,
          this.box.seal(code, otpSealContext(otpId)),
          whatsapp ? 'pending' : 'sms_pending',
          fallbackAt.toISOString(),
          expiresAt.toISOString(),
          now.toISOString(),
        ],
      );
    });
    return { otpId, channel, expiresAt: expiresAt.toISOString() };
  }

  /** Checks a code; every refusal except a malformed request is stored (attempts, lock) before it is thrown. */
  async verify(
    peerId: string,
    req: { otpId: string; code: string; dealId: string | null },
    now = new Date(),
  ): Promise<VerifiedOtp> {
    const result = await this.db.tx(async (sql) => {
      const [row] = await sql.query<OtpRow>(
        `SELECT id, phone, purpose, deal_id, code_hash, state, attempts, max_attempts, expires_at
           FROM otp_codes WHERE id = $1 AND peer_id = $2 FOR UPDATE`,
        [req.otpId, peerId],
      );
      if (!row) {
        this.hasher.dummyVerify(req.code);
        return { ok: false as const, error: 'OTP_INVALID' as const, attemptsLeft: 0, unknown: true };
      }
      const judgement = judgeVerify(
        {
          state: row.state,
          attempts: row.attempts,
          maxAttempts: row.max_attempts,
          expiresAt: row.expires_at,
          purpose: row.purpose,
          dealId: row.deal_id,
        },
        {
          now,
          codeMatches: this.hasher.verify(otpHashInput(row.id, req.code), row.code_hash),
          dealId: req.dealId,
        },
      );
      const { next } = judgement;
      if (next.state !== row.state || next.attempts !== row.attempts) {
        await sql.query(
          `UPDATE otp_codes SET state = $2, attempts = $3, used_at = CASE WHEN $2 = 'verified' THEN $4::timestamptz ELSE used_at END
            WHERE id = $1`,
          [row.id, next.state, next.attempts, now.toISOString()],
        );
      }
      if (next.state !== 'active') {
        // A used or locked code needs no channel any more: wipe its sealed copy, stop a pending fallback. A code
        // used while WhatsApp was the last channel proves WhatsApp delivered it.
        await sql.query(
          `UPDATE message_deliveries
              SET sealed_code = NULL, updated_at = now(),
                  state = CASE WHEN state IN ('delivered', 'failed', 'cancelled', 'sms_sent') THEN state
                               WHEN state = 'whatsapp_sent' AND $2 = 'verified' THEN 'delivered'
                               ELSE 'cancelled' END
            WHERE otp_id = $1`,
          [row.id, next.state],
        );
      }
      return judgement.ok
        ? { ok: true as const, row }
        : {
            ok: false as const,
            error: judgement.error,
            attemptsLeft: judgement.attemptsLeft,
            unknown: false,
          };
    });
    if (!result.ok) {
      const messages = {
        OTP_INVALID: result.unknown
          ? 'No such code for this peer.'
          : `The code is wrong (or for another deal); ${result.attemptsLeft} attempt(s) left.`,
        OTP_EXPIRED: 'The code has expired; ask for a new one.',
        OTP_LOCKED: 'Too many wrong codes; this code is locked, ask for a new one.',
        OTP_USED: 'The code was already used.',
      };
      throw new OtpError(result.error, messages[result.error]);
    }
    const { row } = result;
    return {
      otpId: row.id,
      purpose: row.purpose,
      phone: row.phone,
      dealId: row.deal_id,
      verifiedAt: now.toISOString(),
    };
  }
}
