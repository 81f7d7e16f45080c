import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import {
  assignmentRuleProblems,
  loyaltyTierProblems,
  type AssignmentRule,
  type LoyaltyTier,
} from '@switchboard/crm';

/** Each section is validated on its own so a bad value names the concern it belongs to. */
export class DatabaseConfig {
  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'database.url must be a postgres:// URL (DATABASE_URL)' })
  url: string;

  @IsInt()
  @Min(1)
  @Max(200)
  poolSize: number;

  /**
   * Days an inbox marker (processed_events) is kept: a redelivery or re-post within it is recognised and
   * skipped, one older than it is processed again. Whole day partitions are dropped past it.
   */
  @IsInt()
  @Min(1)
  @Max(3650)
  idempotencyWindowDays: number;

  /**
   * Days the tables that grow with traffic keep settled rows: the outbox behind every reader, outbound
   * deliveries, customer messages and one-time codes (TrafficRetention).
   */
  @IsInt()
  @Min(1)
  @Max(3650)
  trafficRetentionDays: number;
}

export class AmqpConfig {
  @IsString()
  @Matches(/^amqps?:\/\//, { message: 'amqp.url must be an amqp:// URL (AMQP_URL)' })
  url: string;

  /** Prefix of every exchange and queue name; tests use a unique one per suite. */
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9_.-]*$/)
  namespace: string;

  @IsInt()
  @Min(1)
  @Max(5000)
  prefetch: number;

  @IsInt()
  @Min(100)
  publishTimeoutMs: number;

  /** Upper bound of messages published but not yet confirmed; beyond it the gateway sheds load with 503. */
  @IsInt()
  @Min(1)
  maxUnconfirmed: number;

  /** Retry ladder: one delay per retry; attempts = delays + 1, then the dead-letter queue. */
  @IsArray()
  @ArrayMinSize(0)
  @IsInt({ each: true })
  @Min(10, { each: true })
  retryDelaysMs: number[];

  /** Quorum-queue redelivery limit for deliveries that crash the consumer before any ack. */
  @IsInt()
  @Min(1)
  deliveryLimit: number;

  @IsInt()
  @Min(50)
  reconnectDelayMs: number;
}

export class GatewayConfig {
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  @IsString()
  host: string;

  @IsInt()
  @Min(1024)
  bodyLimitBytes: number;

  /** Proxies whose X-Forwarded-* headers are believed: '' none, 'true', a hop count, or addresses/CIDRs. */
  @IsString()
  trustProxy: string;

  /** Port of the gateway's metrics listener (/metrics, detailed /health), on http.metricsHost. */
  @IsInt()
  @Min(0)
  @Max(65535)
  metricsPort: number;
}

/** HTTPS served by the app itself (sites without a terminating proxy); both empty: plain HTTP. */
export class HttpTlsConfig {
  /** PEM certificate chain (leaf first); re-read on SIGHUP. */
  @IsString()
  certFile: string;

  /** PEM private key of the certificate; re-read on SIGHUP. */
  @IsString()
  keyFile: string;
}

/**
 * Limits of every HTTP listener (gateway and console): how long a client may take to send a request, how long
 * an idle connection stays open, and how many connections one address may hold.
 */
export class HttpConfig {
  /** From the connection (or a kept-alive request's first byte) to the end of the head; over it: 408, closed. */
  @IsInt()
  @Min(100)
  @Max(600_000)
  headersTimeoutMs: number;

  /** From the first byte to the end of the body (slow bodies); over it: 408 and the socket closed. */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  requestTimeoutMs: number;

  /** A kept-alive connection idle between requests is closed after this. */
  @IsInt()
  @Min(100)
  @Max(600_000)
  keepAliveTimeoutMs: number;

  /** A socket with no traffic either way (e.g. a client that stopped reading its answer) is closed after this. */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  idleTimeoutMs: number;

  /** Open connections per client address; beyond it a new one gets 429 and is closed. 0: no limit. */
  @IsInt()
  @Min(0)
  maxConnectionsPerSource: number;

  /** Address the metrics listeners bind; loopback by default, so /metrics is not public. */
  @IsString()
  @MinLength(1)
  metricsHost: string;

  @ValidateNested()
  @Type(() => HttpTlsConfig)
  tls: HttpTlsConfig;
}

/** Credential policy, lockout and quotas (libs/peer-auth). Hours and days may be fractional (tests). */
export class PeerAuthConfig {
  @IsNumber()
  @Min(0)
  credentialOverlapHours: number;

  @IsNumber()
  @Min(0.00001)
  credentialLifetimeDays: number;

  @IsNumber()
  @Min(0)
  credentialWarnDays: number;

  @IsInt()
  @Min(1)
  defaultRateLimitPerMinute: number;

  @IsInt()
  @Min(1)
  lockoutPeerMaxFailures: number;

  @IsInt()
  @Min(1)
  lockoutIpMaxFailures: number;

  @IsInt()
  @Min(1)
  lockoutWindowSeconds: number;

  @IsNumber()
  @Min(0.1)
  lockoutBaseSeconds: number;

  @IsNumber()
  @Min(0.1)
  lockoutMaxSeconds: number;

  @IsInt()
  @Min(1)
  signatureToleranceSeconds: number;

  /**
   * Migration switch: also accept Asterisk version-1 signatures (body only, no timestamp, replayable). Off
   * by default; turn on only while PBX shippers are moved to version 2.
   */
  @IsBoolean()
  asteriskV1Signatures: boolean;

  /** Full reload of the gateway's peer directory, on top of LISTEN/NOTIFY (a safety net for missed notices). */
  @IsInt()
  @Min(1)
  directoryRefreshSeconds: number;

  /** Rotations (POST /v1/credentials/rotate) one peer may make per rolling hour; operators are not limited. */
  @IsInt()
  @Min(1)
  rotationMaxPerHour: number;

  /** Retired, expired and revoked credential rows are deleted this many days after they stopped working. */
  @IsNumber()
  @Min(0.00001)
  credentialRetentionDays: number;

  /** How often the console looks for credentials entering their warning window. */
  @IsInt()
  @Min(1)
  expirySweepSeconds: number;
}

/** Operator accounts (issue 17): password policy, lockout, two-factor, sessions, API tokens. */
export class OperatorsConfig {
  /** A password older than this must be changed at the next sign-in; 0 forces a change every time (tests). */
  @IsNumber()
  @Min(0)
  passwordMaxAgeDays: number;

  /** A new password may not equal any of the operator's last N passwords. */
  @IsInt()
  @Min(0)
  @Max(50)
  passwordHistory: number;

  /** Wrong passwords (per email and per address) within peerAuth.lockoutWindowSeconds before a lockout. */
  @IsInt()
  @Min(1)
  lockoutMaxFailures: number;

  /** First lockout in seconds; doubles with every further lockout up to lockoutMaxSeconds. */
  @IsNumber()
  @Min(0.1)
  lockoutBaseSeconds: number;

  @IsNumber()
  @Min(1)
  lockoutMaxSeconds: number;

  /** Roles that must sign in with a TOTP code (they are sent to enrolment until they have one). */
  @IsArray()
  @IsIn(['admin', 'supervisor', 'manager', 'auditor'], { each: true })
  totpRequiredRoles: string[];

  /** A session unused this long ends. */
  @IsNumber()
  @Min(0.1)
  sessionIdleMinutes: number;

  /** A session ends this long after sign-in, used or not. */
  @IsNumber()
  @Min(0.01)
  sessionAbsoluteHours: number;

  /** Mark the session cookie Secure (HTTPS only). Turn off only for plain-HTTP localhost. */
  @IsBoolean()
  cookieSecure: boolean;

  @IsIn(['Strict', 'Lax'])
  cookieSameSite: 'Strict' | 'Lax';

  /** Lifetime of a password-reset code sent by email. */
  @IsNumber()
  @Min(1)
  resetCodeMinutes: number;

  /** Longest lifetime of a personal API token. */
  @IsNumber()
  @Min(1)
  apiTokenMaxDays: number;
}

export class ConsoleConfig {
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  @IsString()
  host: string;

  @IsString()
  @MinLength(16, { message: 'console.adminToken must be at least 16 characters (ADMIN_TOKEN)' })
  adminToken: string;

  /** Port of the console's metrics listener (/metrics, detailed /health), on http.metricsHost. */
  @IsInt()
  @Min(0)
  @Max(65535)
  metricsPort: number;
  /**
   * Wrong admin tokens from one address within peerAuth.lockoutWindowSeconds that lock that address out of the
   * console (peerAuth.lockoutBaseSeconds, doubling up to lockoutMaxSeconds).
   */
  @IsInt()
  @Min(1)
  adminLockoutMaxFailures: number;

  @ValidateNested()
  @Type(() => OperatorsConfig)
  operators: OperatorsConfig;
}

export class ConnectorConfig {
  /** HTTP port for /health and /metrics of a connector process. */
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  @IsString()
  host: string;

  /**
   * Unacknowledged messages this connector may hold (amqp.prefetch when unset). A connector that projects a
   * batch set-based gets bigger batches, and so more events per statement, from a bigger window.
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  prefetch?: number;
}

/** apps/outbound: signed webhooks to peers (README "Outbound webhooks"). */
export class OutboundConfig {
  /** HTTP port for /health and /metrics (config/apps.json, OUTBOUND_PORT). */
  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  @IsString()
  host: string;

  /** How often an idle replica looks for new CRM changes and due deliveries. */
  @IsInt()
  @Min(10)
  @Max(60_000)
  pollIntervalMs: number;

  /** Deliveries one replica claims at a time. */
  @IsInt()
  @Min(1)
  @Max(10_000)
  batchSize: number;

  /** Requests in flight per replica. */
  @IsInt()
  @Min(1)
  @Max(1000)
  concurrency: number;

  /** Deadline of one POST, answer body included. */
  @IsInt()
  @Min(100)
  @Max(120_000)
  requestTimeoutMs: number;

  /** Exponential backoff: the first retry waits up to this (full jitter), doubling per attempt... */
  @IsInt()
  @Min(10)
  retryBaseMs: number;

  /** ...up to this; a Retry-After answer may ask for longer. */
  @IsInt()
  @Min(10)
  retryMaxMs: number;

  /** A delivery still failing this long after its first attempt becomes a dead letter (OUTBOUND_RETRIES_EXHAUSTED). */
  @IsNumber()
  @Min(0.001)
  retryForHours: number;

  /** Failed attempts in a row that open an endpoint's circuit breaker... */
  @IsInt()
  @Min(1)
  breakerFailures: number;

  /** ...for this long; then one probe delivery decides whether it closes. */
  @IsInt()
  @Min(10)
  breakerCooldownMs: number;

  /** An endpoint failing without a success for this long is paused and raises an alert. */
  @IsNumber()
  @Min(0.001)
  pauseAfterHours: number;

  /**
   * A gap in crm_changes.seq (a producer's transaction still open) holds the reader back this long at most; after
   * it the gap is taken for a rolled-back transaction.
   */
  @IsInt()
  @Min(0)
  gapWaitMs: number;
}

export class LeadsConfig {
  /** The same request (person, form, message) again within this many minutes collapses into the first. */
  @IsInt()
  @Min(0)
  @Max(10_080)
  repeatWindowMinutes: number;

  /** Minutes to a new lead's first-contact task, per source ("website:<peer>", "website", "default"). */
  @IsObject()
  @ValidateBy({
    name: 'isMinutesMap',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'object' &&
        v !== null &&
        Object.values(v).every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 100_000),
      defaultMessage: () => 'firstContactDueMinutes must map sources to whole minutes (0-100000)',
    },
  })
  firstContactDueMinutes: Record<string, number>;

  /** Minutes from a `callback` request to its call-back task's due time. */
  @IsInt()
  @Min(0)
  @Max(100_000)
  callbackDueMinutes: number;

  /** Extra disposable-mail domains (added to the shipped list). */
  @IsArray()
  @IsString({ each: true })
  disposableDomains: string[];

  /** The reasons a lead may be refused with (POST /v1/crm/leads/:id/refuse). */
  @IsArray()
  @ArrayMinSize(1)
  @IsString({ each: true })
  refuseReasons: string[];

  /** Ordered assignment rules used while none are stored through PUT /v1/admin/assignment-rules. */
  @IsArray()
  @ValidateBy({
    name: 'isAssignmentRules',
    validator: {
      validate: (v: unknown) => assignmentRuleProblems(v).length === 0,
      defaultMessage: (a) => assignmentRuleProblems(a?.value).join('; '),
    },
  })
  assignmentRules: AssignmentRule[];
}

/** Loyalty discount (issue 16): spend of paid deals over a rolling window -> tier -> percent. */
export class LoyaltyConfig {
  /** Ascending spend thresholds, each with its percent; [] turns tiers off (manual discounts still work). */
  @IsArray()
  @ValidateBy({
    name: 'isLoyaltyTiers',
    validator: {
      validate: (v: unknown) => loyaltyTierProblems(v).length === 0,
      defaultMessage: (a) => loyaltyTierProblems(a?.value).join('; '),
    },
  })
  tiers: LoyaltyTier[];

  /** Only paid deals in this currency count towards the spend (ISO 4217). */
  @IsString()
  @Matches(/^[A-Z]{3}$/)
  currency: string;

  /** The rolling window of paid deals, in days. */
  @IsInt()
  @Min(1)
  @Max(3660)
  windowDays: number;

  /** How often the console recomputes every contact (old spend ages out, manual discounts expire). */
  @IsNumber()
  @Min(0.05)
  @Max(1440)
  recomputeEveryMinutes: number;
}

export class CrmConfig {
  /** ISO 3166 region used to read national phone numbers ("8 912 …" in RU). */
  @IsString()
  @Matches(/^[A-Z]{2}$/)
  defaultRegion: string;

  @ValidateNested()
  @Type(() => LeadsConfig)
  leads: LeadsConfig;

  @ValidateNested()
  @Type(() => LoyaltyConfig)
  loyalty: LoyaltyConfig;
}

export class TelephonyConfig {
  /** Minutes from a missed inbound call to its call-back task's due time. */
  @IsInt()
  @Min(0)
  @Max(100_000)
  callbackDueMinutes: number;

  /**
   * Call tracking: our line/DID (any spelling; normalized like customer phones) -> the ad channel it is
   * printed on. A lead created by a call on a listed line carries that channel.
   */
  @IsObject()
  lineChannels: Record<string, string>;
}

/** The ERP side: the 1C exchange on the gateway, invoices, the erp-connector's projection. */
export class ErpConfig {
  /** `file_limit` announced to 1C: the largest chunk of one `mode=file` request. */
  @IsInt()
  @Min(1024)
  @Max(1_073_741_824)
  fileLimitBytes: number;

  /** One uploaded file (all its chunks) at most; over it the upload is refused and removed. */
  @IsInt()
  @Min(1024)
  maxUploadBytes: number;

  /** An entry of an uploaded zip at most, unpacked (zip bombs); also its ratio to the packed size. */
  @IsInt()
  @Min(1024)
  maxUnzippedBytes: number;

  @IsInt()
  @Min(1)
  @Max(100_000)
  maxZipRatio: number;

  /** A 1C session (cookie) and its uploads live this long after its last call. */
  @IsNumber()
  @Min(0.1)
  sessionTtlMinutes: number;

  /** How long one `mode=import` call works before it answers `progress` (1C then asks again). */
  @IsNumber()
  @Min(0.05)
  @Max(600)
  importStepSeconds: number;

  /**
   * The lease of a replica parsing an import, renewed every third of it: when the replica dies, the next
   * `mode=import` call after the lease lapsed (on any replica) takes the import over.
   */
  @IsNumber()
  @Min(1)
  @Max(600)
  importLeaseSeconds: number;

  /** XML body of `POST /v1/erp/invoices` (UBL) at most. */
  @IsInt()
  @Min(1024)
  invoiceXmlLimitBytes: number;

  /** The encoding of `sale&mode=query` documents for peers not listed in orderEncodings. */
  @IsIn(['windows-1251', 'utf-8'])
  defaultOrderEncoding: 'windows-1251' | 'utf-8';

  /** Per 1C peer id: `windows-1251` or `utf-8`. */
  @IsObject()
  orderEncodings: Record<string, string>;
}

export class AccessLogConfig {
  /** Off only for benchmarks comparing the cost; the interface security rules require it on. */
  @IsBoolean()
  enabled: boolean;

  /** What of a request body is kept: its SHA-256 (default), nothing, or the body itself (debugging only). */
  @IsIn(['hash', 'none', 'full'])
  bodies: 'hash' | 'none' | 'full';

  @IsInt()
  @Min(10)
  @Max(60_000)
  flushIntervalMs: number;

  @IsInt()
  @Min(1)
  @Max(10_000)
  batchSize: number;

  /** Records held in memory while the store is slow or down; beyond it new records are dropped and counted. */
  @IsInt()
  @Min(100)
  @Max(10_000_000)
  maxBuffered: number;

  @IsInt()
  @Min(1)
  @Max(36_500)
  retentionDays: number;

  /** How often partitions are created ahead and expired ones dropped. */
  @IsInt()
  @Min(1)
  maintenanceIntervalSeconds: number;

  @IsInt()
  @Min(1)
  @Max(366)
  partitionsAheadDays: number;
}

export class SmtpSinkConfig {
  /** Empty: no email. */
  @IsString()
  host: string;

  @IsInt()
  @Min(0)
  @Max(65535)
  port: number;

  /** TLS from the first byte (usually port 465). Otherwise STARTTLS when offered, and required when user is set. */
  @IsBoolean()
  secure: boolean;

  /** Empty: no AUTH. */
  @IsString()
  user: string;

  /** Prefer ALERTS_SMTP_PASS or passFile over a config file; never logged. */
  @IsString()
  pass: string;

  /** A file holding the password (surrounding whitespace ignored); instead of pass. */
  @IsString()
  passFile: string;

  @IsString()
  from: string;

  /** Comma-separated recipients. */
  @IsString()
  to: string;
}

export class AlertsConfig {
  @IsInt()
  @Min(1)
  evaluateIntervalSeconds: number;

  /** Empty: no webhook. Alerts are POSTed as JSON signed per Standard Webhooks with webhookSecret. */
  @IsString()
  webhookUrl: string;

  /** `whsec_<base64>` (Standard Webhooks); required when webhookUrl is set. */
  @IsString()
  webhookSecret: string;

  @ValidateNested()
  @Type(() => SmtpSinkConfig)
  smtp: SmtpSinkConfig;

  /** Failed authentications of one peer (or claimed peer id) >= threshold within windowMinutes. 0 disables. */
  @IsInt()
  @Min(0)
  authFailureThreshold: number;

  /** Fractions allowed (0.25 = 15 s), mostly for tests. */
  @IsNumber()
  @Min(0.01)
  authFailureWindowMinutes: number;

  /** Share of a peer's calls that were not accepted, over at least errorRateMinCalls calls. 0 disables. */
  @IsNumber()
  @Min(0)
  @Max(100)
  errorRatePercent: number;

  @IsInt()
  @Min(1)
  errorRateWindowMinutes: number;

  @IsInt()
  @Min(1)
  errorRateMinCalls: number;

  /** Alert when a connector's dead-letter queue holds more than this many messages. -1 disables. */
  @IsInt()
  @Min(-1)
  deadLetterDepth: number;

  /** Alert for an active credential expiring within this many days. 0 disables. */
  @IsInt()
  @Min(0)
  credentialExpiringDays: number;

  /** Alert while a peer's own credential rotation is at most this many minutes old. 0 disables. */
  @IsNumber()
  @Min(0)
  credentialRotatedMinutes: number;

  /** Alert for an active peer that sent nothing accepted for this many hours. 0 disables. */
  @IsNumber()
  @Min(0)
  peerSilentHours: number;

  /** A new lead nobody is assigned to (nobody on duty) for this many minutes raises an alert; 0: off. */
  @IsNumber()
  @Min(0)
  unassignedLeadMinutes: number;

  /** This many open tasks past their due time raise an alert; 0: off. */
  @IsInt()
  @Min(0)
  overdueTaskThreshold: number;

  /** An outbound webhook endpoint paused after failing for outbound.pauseAfterHours raises an alert; false: off. */
  @IsBoolean()
  outboundEndpointPaused: boolean;

  /**
   * Minutes an alert stays firing after the shared ADMIN_TOKEN (break-glass) was used on the console; 0: off.
   * Off in config/test.json: every e2e suite administers with it.
   */
  @IsNumber()
  @Min(0)
  adminTokenUseMinutes: number;
}

/** How often one phone, one peer and one client address may ask for a code (issue 16.4). */
export class OtpRateConfig {
  @IsInt()
  @Min(1)
  perPhone: number;

  @IsInt()
  @Min(1)
  perPhoneWindowSeconds: number;

  @IsInt()
  @Min(1)
  perPeer: number;

  @IsInt()
  @Min(1)
  perPeerWindowSeconds: number;

  @IsInt()
  @Min(1)
  perAddress: number;

  @IsInt()
  @Min(1)
  perAddressWindowSeconds: number;
}

export class OtpConfig {
  /** A code's lifetime (5 minutes by default). */
  @IsInt()
  @Min(30)
  @Max(3600)
  ttlSeconds: number;

  /** Wrong codes before a code is locked. */
  @IsInt()
  @Min(1)
  @Max(20)
  maxAttempts: number;

  @ValidateNested()
  @Type(() => OtpRateConfig)
  rate: OtpRateConfig;

  /** The approved WhatsApp authentication template (copy-code button) and its language. */
  @IsString()
  @MinLength(1)
  whatsappTemplate: string;

  @IsString()
  @MinLength(2)
  language: string;

  /** The SMS text; `{code}` is replaced by the code. */
  @IsString()
  @Matches(/\{code\}/, { message: 'notifications.otp.smsText must contain {code}' })
  smsText: string;
}

export class WhatsAppApiConfig {
  /** The Graph API base URL (tests point it at a fake server). */
  @IsString()
  @Matches(/^https?:\/\//)
  baseUrl: string;

  @IsString()
  @Matches(/^v\d+\.\d+$/)
  apiVersion: string;
}

export class SmsApiConfig {
  @IsIn(['smsru'])
  provider: string;

  @IsString()
  @Matches(/^https?:\/\//)
  baseUrl: string;

  /** Approved sender name; empty: the account's default. */
  @IsString()
  from: string;
}

export class OrderStatusTemplate {
  /** An approved WhatsApp utility template; its body parameters are {{1}} order number, {{2}} status. */
  @IsString()
  @MinLength(1)
  whatsappTemplate: string;

  @IsString()
  @MinLength(2)
  language: string;

  /** The SMS text; `{order}` and `{status}` are replaced. */
  @IsString()
  @MinLength(1)
  smsText: string;
}

export class OrderStatusMessagesConfig {
  @IsBoolean()
  enabled: boolean;

  /** A message not delivered by any channel within this many hours is given up (state failed). */
  @IsNumber()
  @Min(0.01)
  giveUpHours: number;

  /** Deal status -> message; statuses not listed send nothing. */
  @IsObject()
  @ValidateBy({
    name: 'orderStatusTemplates',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'object' &&
        v !== null &&
        Object.values(v).every(
          (t) =>
            typeof t === 'object' &&
            t !== null &&
            ['whatsappTemplate', 'language', 'smsText'].every(
              (k) =>
                typeof (t as Record<string, unknown>)[k] === 'string' &&
                (t as Record<string, string>)[k] !== '',
            ),
        ),
      defaultMessage: () =>
        'notifications.orderStatus.templates: each status needs whatsappTemplate, language and smsText',
    },
  })
  templates: Record<string, OrderStatusTemplate>;
}

/** One-time codes and customer messages over WhatsApp with SMS fallback (apps/outbound sends, gateway takes). */
export class NotificationsConfig {
  @ValidateNested()
  @Type(() => OtpConfig)
  otp: OtpConfig;

  /** SMS goes when WhatsApp has not reported `delivered` within this many seconds (or reported a failure). */
  @IsNumber()
  @Min(0.1)
  whatsappFallbackSeconds: number;

  @ValidateNested()
  @Type(() => WhatsAppApiConfig)
  whatsapp: WhatsAppApiConfig;

  @ValidateNested()
  @Type(() => SmsApiConfig)
  sms: SmsApiConfig;

  /** How often the sender looks for due work (new messages, fallbacks, retries). */
  @IsInt()
  @Min(20)
  pollIntervalMs: number;

  @ValidateNested()
  @Type(() => OrderStatusMessagesConfig)
  orderStatus: OrderStatusMessagesConfig;
}

export class LogConfig {
  @IsIn(['error', 'warn', 'info', 'debug', 'verbose'])
  level: string;

  @IsOptional()
  @IsIn(['json', 'pretty'])
  format?: string;
}

export class AppConfig {
  @ValidateNested()
  @Type(() => DatabaseConfig)
  database: DatabaseConfig;

  @ValidateNested()
  @Type(() => AmqpConfig)
  amqp: AmqpConfig;

  @ValidateNested()
  @Type(() => GatewayConfig)
  gateway: GatewayConfig;

  @ValidateNested()
  @Type(() => HttpConfig)
  http: HttpConfig;

  @ValidateNested()
  @Type(() => PeerAuthConfig)
  peerAuth: PeerAuthConfig;

  @ValidateNested()
  @Type(() => ConsoleConfig)
  console: ConsoleConfig;

  @ValidateNested()
  @Type(() => ConnectorConfig)
  websiteConnector: ConnectorConfig;

  @ValidateNested()
  @Type(() => ConnectorConfig)
  telephonyConnector: ConnectorConfig;

  @ValidateNested()
  @Type(() => ConnectorConfig)
  erpConnector: ConnectorConfig;

  @ValidateNested()
  @Type(() => ErpConfig)
  erp: ErpConfig;

  @ValidateNested()
  @Type(() => OutboundConfig)
  outbound: OutboundConfig;

  @ValidateNested()
  @Type(() => CrmConfig)
  crm: CrmConfig;

  @ValidateNested()
  @Type(() => TelephonyConfig)
  telephony: TelephonyConfig;

  @ValidateNested()
  @Type(() => AccessLogConfig)
  accessLog: AccessLogConfig;

  @ValidateNested()
  @Type(() => AlertsConfig)
  alerts: AlertsConfig;

  @ValidateNested()
  @Type(() => NotificationsConfig)
  notifications: NotificationsConfig;

  @ValidateNested()
  @Type(() => LogConfig)
  log: LogConfig;
}
