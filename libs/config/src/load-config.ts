import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { AppManifestEntry } from './app-manifest';
import { AppConfig } from './config.schema';

type Json = Record<string, unknown>;
type EnvKind = 'string' | 'int' | 'number' | 'intList' | 'bool' | 'json';

/**
 * Environment variables that override config files: name -> [path, kind]. Documented in the README. Each app's
 * port variables (GATEWAY_PORT, OUTBOUND_PORT, ...) come from config/apps.json: see appPortOverrides().
 */
export const ENV_OVERRIDES: Record<string, [string, EnvKind]> = {
  DATABASE_URL: ['database.url', 'string'],
  DATABASE_POOL_SIZE: ['database.poolSize', 'int'],
  DATABASE_IDEMPOTENCY_WINDOW_DAYS: ['database.idempotencyWindowDays', 'int'],
  DATABASE_TRAFFIC_RETENTION_DAYS: ['database.trafficRetentionDays', 'int'],
  AMQP_URL: ['amqp.url', 'string'],
  AMQP_NAMESPACE: ['amqp.namespace', 'string'],
  AMQP_PREFETCH: ['amqp.prefetch', 'int'],
  AMQP_PUBLISH_TIMEOUT_MS: ['amqp.publishTimeoutMs', 'int'],
  AMQP_MAX_UNCONFIRMED: ['amqp.maxUnconfirmed', 'int'],
  AMQP_RETRY_DELAYS_MS: ['amqp.retryDelaysMs', 'intList'],
  AMQP_DELIVERY_LIMIT: ['amqp.deliveryLimit', 'int'],
  AMQP_RECONNECT_DELAY_MS: ['amqp.reconnectDelayMs', 'int'],
  GATEWAY_HOST: ['gateway.host', 'string'],
  GATEWAY_BODY_LIMIT_BYTES: ['gateway.bodyLimitBytes', 'int'],
  GATEWAY_TRUST_PROXY: ['gateway.trustProxy', 'string'],
  METRICS_HOST: ['http.metricsHost', 'string'],
  HTTP_HEADERS_TIMEOUT_MS: ['http.headersTimeoutMs', 'int'],
  HTTP_REQUEST_TIMEOUT_MS: ['http.requestTimeoutMs', 'int'],
  HTTP_KEEP_ALIVE_TIMEOUT_MS: ['http.keepAliveTimeoutMs', 'int'],
  HTTP_IDLE_TIMEOUT_MS: ['http.idleTimeoutMs', 'int'],
  HTTP_MAX_CONNECTIONS_PER_SOURCE: ['http.maxConnectionsPerSource', 'int'],
  HTTP_TLS_CERT_FILE: ['http.tls.certFile', 'string'],
  HTTP_TLS_KEY_FILE: ['http.tls.keyFile', 'string'],
  PEER_CREDENTIAL_OVERLAP_HOURS: ['peerAuth.credentialOverlapHours', 'number'],
  PEER_CREDENTIAL_LIFETIME_DAYS: ['peerAuth.credentialLifetimeDays', 'number'],
  PEER_CREDENTIAL_WARN_DAYS: ['peerAuth.credentialWarnDays', 'number'],
  PEER_DEFAULT_RATE_LIMIT_PER_MINUTE: ['peerAuth.defaultRateLimitPerMinute', 'int'],
  PEER_LOCKOUT_MAX_FAILURES: ['peerAuth.lockoutPeerMaxFailures', 'int'],
  PEER_LOCKOUT_IP_MAX_FAILURES: ['peerAuth.lockoutIpMaxFailures', 'int'],
  PEER_LOCKOUT_WINDOW_SECONDS: ['peerAuth.lockoutWindowSeconds', 'int'],
  PEER_LOCKOUT_BASE_SECONDS: ['peerAuth.lockoutBaseSeconds', 'number'],
  PEER_LOCKOUT_MAX_SECONDS: ['peerAuth.lockoutMaxSeconds', 'number'],
  PEER_SIGNATURE_TOLERANCE_SECONDS: ['peerAuth.signatureToleranceSeconds', 'int'],
  PEER_ASTERISK_V1_SIGNATURES: ['peerAuth.asteriskV1Signatures', 'bool'],
  PEER_EXPIRY_SWEEP_SECONDS: ['peerAuth.expirySweepSeconds', 'int'],
  PEER_ROTATION_MAX_PER_HOUR: ['peerAuth.rotationMaxPerHour', 'int'],
  PEER_CREDENTIAL_RETENTION_DAYS: ['peerAuth.credentialRetentionDays', 'number'],
  CONSOLE_HOST: ['console.host', 'string'],
  ADMIN_TOKEN: ['console.adminToken', 'string'],
  CONSOLE_ADMIN_LOCKOUT_MAX_FAILURES: ['console.adminLockoutMaxFailures', 'int'],
  OPERATOR_PASSWORD_MAX_AGE_DAYS: ['console.operators.passwordMaxAgeDays', 'number'],
  OPERATOR_PASSWORD_HISTORY: ['console.operators.passwordHistory', 'int'],
  OPERATOR_LOCKOUT_MAX_FAILURES: ['console.operators.lockoutMaxFailures', 'int'],
  OPERATOR_LOCKOUT_BASE_SECONDS: ['console.operators.lockoutBaseSeconds', 'number'],
  OPERATOR_LOCKOUT_MAX_SECONDS: ['console.operators.lockoutMaxSeconds', 'number'],
  OPERATOR_TOTP_REQUIRED_ROLES: ['console.operators.totpRequiredRoles', 'json'],
  OPERATOR_SESSION_IDLE_MINUTES: ['console.operators.sessionIdleMinutes', 'number'],
  OPERATOR_SESSION_ABSOLUTE_HOURS: ['console.operators.sessionAbsoluteHours', 'number'],
  CONSOLE_COOKIE_SECURE: ['console.operators.cookieSecure', 'bool'],
  CONSOLE_COOKIE_SAME_SITE: ['console.operators.cookieSameSite', 'string'],
  OPERATOR_RESET_CODE_MINUTES: ['console.operators.resetCodeMinutes', 'number'],
  OPERATOR_API_TOKEN_MAX_DAYS: ['console.operators.apiTokenMaxDays', 'number'],
  WEBSITE_CONNECTOR_PREFETCH: ['websiteConnector.prefetch', 'int'],
  TELEPHONY_CONNECTOR_PREFETCH: ['telephonyConnector.prefetch', 'int'],
  OTP_TTL_SECONDS: ['notifications.otp.ttlSeconds', 'int'],
  OTP_MAX_ATTEMPTS: ['notifications.otp.maxAttempts', 'int'],
  OTP_RATE_PER_PHONE: ['notifications.otp.rate.perPhone', 'int'],
  OTP_RATE_PER_PEER: ['notifications.otp.rate.perPeer', 'int'],
  OTP_RATE_PER_ADDRESS: ['notifications.otp.rate.perAddress', 'int'],
  WHATSAPP_FALLBACK_SECONDS: ['notifications.whatsappFallbackSeconds', 'number'],
  WHATSAPP_API_BASE_URL: ['notifications.whatsapp.baseUrl', 'string'],
  SMS_API_BASE_URL: ['notifications.sms.baseUrl', 'string'],
  NOTIFICATIONS_POLL_INTERVAL_MS: ['notifications.pollIntervalMs', 'int'],
  ORDER_STATUS_MESSAGES: ['notifications.orderStatus.templates', 'json'],
  ERP_CONNECTOR_PREFETCH: ['erpConnector.prefetch', 'int'],
  ERP_FILE_LIMIT_BYTES: ['erp.fileLimitBytes', 'int'],
  ERP_MAX_UPLOAD_BYTES: ['erp.maxUploadBytes', 'int'],
  ERP_MAX_UNZIPPED_BYTES: ['erp.maxUnzippedBytes', 'int'],
  ERP_SESSION_TTL_MINUTES: ['erp.sessionTtlMinutes', 'number'],
  ERP_IMPORT_STEP_SECONDS: ['erp.importStepSeconds', 'number'],
  ERP_IMPORT_LEASE_SECONDS: ['erp.importLeaseSeconds', 'number'],
  ERP_INVOICE_XML_LIMIT_BYTES: ['erp.invoiceXmlLimitBytes', 'int'],
  ERP_DEFAULT_ORDER_ENCODING: ['erp.defaultOrderEncoding', 'string'],
  ERP_ORDER_ENCODINGS: ['erp.orderEncodings', 'json'],
  OUTBOUND_POLL_INTERVAL_MS: ['outbound.pollIntervalMs', 'int'],
  OUTBOUND_BATCH_SIZE: ['outbound.batchSize', 'int'],
  OUTBOUND_CONCURRENCY: ['outbound.concurrency', 'int'],
  OUTBOUND_REQUEST_TIMEOUT_MS: ['outbound.requestTimeoutMs', 'int'],
  OUTBOUND_RETRY_BASE_MS: ['outbound.retryBaseMs', 'int'],
  OUTBOUND_RETRY_MAX_MS: ['outbound.retryMaxMs', 'int'],
  OUTBOUND_RETRY_FOR_HOURS: ['outbound.retryForHours', 'number'],
  OUTBOUND_BREAKER_FAILURES: ['outbound.breakerFailures', 'int'],
  OUTBOUND_BREAKER_COOLDOWN_MS: ['outbound.breakerCooldownMs', 'int'],
  OUTBOUND_PAUSE_AFTER_HOURS: ['outbound.pauseAfterHours', 'number'],
  OUTBOUND_GAP_WAIT_MS: ['outbound.gapWaitMs', 'int'],
  TELEPHONY_CALLBACK_DUE_MINUTES: ['telephony.callbackDueMinutes', 'int'],
  ACCESS_LOG_ENABLED: ['accessLog.enabled', 'bool'],
  ACCESS_LOG_BODIES: ['accessLog.bodies', 'string'],
  ACCESS_LOG_FLUSH_INTERVAL_MS: ['accessLog.flushIntervalMs', 'int'],
  ACCESS_LOG_MAX_BUFFERED: ['accessLog.maxBuffered', 'int'],
  ACCESS_LOG_RETENTION_DAYS: ['accessLog.retentionDays', 'int'],
  ACCESS_LOG_MAINTENANCE_INTERVAL_SECONDS: ['accessLog.maintenanceIntervalSeconds', 'int'],
  ALERTS_EVALUATE_INTERVAL_SECONDS: ['alerts.evaluateIntervalSeconds', 'int'],
  ALERTS_WEBHOOK_URL: ['alerts.webhookUrl', 'string'],
  ALERTS_WEBHOOK_SECRET: ['alerts.webhookSecret', 'string'],
  ALERTS_SMTP_HOST: ['alerts.smtp.host', 'string'],
  ALERTS_SMTP_PORT: ['alerts.smtp.port', 'int'],
  ALERTS_SMTP_SECURE: ['alerts.smtp.secure', 'bool'],
  ALERTS_SMTP_USER: ['alerts.smtp.user', 'string'],
  ALERTS_SMTP_PASS: ['alerts.smtp.pass', 'string'],
  ALERTS_SMTP_PASS_FILE: ['alerts.smtp.passFile', 'string'],
  ALERTS_SMTP_FROM: ['alerts.smtp.from', 'string'],
  ALERTS_SMTP_TO: ['alerts.smtp.to', 'string'],
  ALERTS_AUTH_FAILURE_THRESHOLD: ['alerts.authFailureThreshold', 'int'],
  ALERTS_AUTH_FAILURE_WINDOW_MINUTES: ['alerts.authFailureWindowMinutes', 'number'],
  ALERTS_ERROR_RATE_PERCENT: ['alerts.errorRatePercent', 'number'],
  ALERTS_DEAD_LETTER_DEPTH: ['alerts.deadLetterDepth', 'int'],
  ALERTS_CREDENTIAL_EXPIRING_DAYS: ['alerts.credentialExpiringDays', 'int'],
  ALERTS_CREDENTIAL_ROTATED_MINUTES: ['alerts.credentialRotatedMinutes', 'number'],
  ALERTS_PEER_SILENT_HOURS: ['alerts.peerSilentHours', 'number'],
  ALERTS_UNASSIGNED_LEAD_MINUTES: ['alerts.unassignedLeadMinutes', 'number'],
  ALERTS_OVERDUE_TASK_THRESHOLD: ['alerts.overdueTaskThreshold', 'int'],
  ALERTS_OUTBOUND_ENDPOINT_PAUSED: ['alerts.outboundEndpointPaused', 'bool'],
  ALERTS_ADMIN_TOKEN_USE_MINUTES: ['alerts.adminTokenUseMinutes', 'number'],
  CRM_DEFAULT_REGION: ['crm.defaultRegion', 'string'],
  CRM_LOYALTY_TIERS: ['crm.loyalty.tiers', 'json'],
  CRM_LOYALTY_CURRENCY: ['crm.loyalty.currency', 'string'],
  CRM_LOYALTY_WINDOW_DAYS: ['crm.loyalty.windowDays', 'int'],
  CRM_LOYALTY_RECOMPUTE_EVERY_MINUTES: ['crm.loyalty.recomputeEveryMinutes', 'number'],
  LOG_LEVEL: ['log.level', 'string'],
  LOG_FORMAT: ['log.format', 'string'],
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out;
}

function setPath(target: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[keys[keys.length - 1]] = value;
}

function parseEnv(name: string, raw: string, kind: EnvKind, problems: string[]): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) problems.push(`${name} must be an integer, got "${raw}"`);
      return Number(raw);
    }
    case 'number': {
      if (!/^\d+(\.\d+)?$/.test(raw.trim())) problems.push(`${name} must be a number, got "${raw}"`);
      return Number(raw);
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (!['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v))
        problems.push(`${name} must be true or false, got "${raw}"`);
      return ['true', '1', 'yes', 'on'].includes(v);
    }
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        problems.push(`${name} must be JSON, got "${raw}"`);
        return undefined;
      }
    case 'intList':
      return raw
        .split(',')
        .filter((s) => s.trim() !== '')
        .map((s) => Number(s.trim()));
  }
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => (m.includes(path) ? m : `${path}: ${m}`));
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/**
 * Reads config/default.json, then config/<NODE_ENV>.json, then environment overrides, and validates the
 * result. Fails fast with every problem listed, so a misconfigured process never half-starts.
 */
export type ConfigSection = keyof AppConfig;
export const ALL_SECTIONS: ConfigSection[] = [
  'database',
  'amqp',
  'gateway',
  'http',
  'peerAuth',
  'console',
  'websiteConnector',
  'telephonyConnector',
  'erpConnector',
  'erp',
  'outbound',
  'crm',
  'telephony',
  'accessLog',
  'alerts',
  'notifications',
  'log',
];

/** `<section>.port` (and `.metricsPort`) of every app in config/apps.json. */
function manifestDefaults(apps: AppManifestEntry[]): Json {
  const out: Json = {};
  for (const a of apps) {
    out[a.configSection] = {
      port: a.port,
      ...(a.metricsPort !== undefined && { metricsPort: a.metricsPort }),
    };
  }
  return out;
}

/** PORT env vars of config/apps.json -> their config paths (GATEWAY_PORT -> gateway.port). */
export function appPortOverrides(apps: AppManifestEntry[]): Record<string, [string, EnvKind]> {
  const out: Record<string, [string, EnvKind]> = {};
  for (const a of apps) {
    out[a.portEnv] = [`${a.configSection}.port`, 'int'];
    if (a.metricsPortEnv) out[a.metricsPortEnv] = [`${a.configSection}.metricsPort`, 'int'];
  }
  return out;
}

/** Rules across fields of the http section (Node refuses a head timeout longer than the request timeout). */
function httpProblems(config: AppConfig): string[] {
  const { headersTimeoutMs, requestTimeoutMs, tls } = config.http;
  const problems =
    headersTimeoutMs > requestTimeoutMs
      ? [
          `http.headersTimeoutMs (${headersTimeoutMs}) must not exceed http.requestTimeoutMs (${requestTimeoutMs}) ` +
            '(HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS)',
        ]
      : [];
  if (tls && !tls.certFile !== !tls.keyFile)
    problems.push(
      'http.tls.certFile and http.tls.keyFile go together: set both for HTTPS, or neither (HTTP_TLS_CERT_FILE, HTTP_TLS_KEY_FILE)',
    );
  for (const [key, file] of [
    ['certFile', tls?.certFile],
    ['keyFile', tls?.keyFile],
  ] as const)
    if (file && !existsSync(file)) problems.push(`http.tls.${key}: no such file ${file}`);
  return problems;
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  sections: ConfigSection[] = ALL_SECTIONS,
): AppConfig {
  const dir = resolve(env.SWITCHBOARD_CONFIG_DIR ?? join(process.cwd(), 'config'));
  const read = (file: string): Json => {
    const path = join(dir, file);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Json) : {};
  };
  const manifest = (read('apps.json').apps ?? []) as AppManifestEntry[];
  // Ports are named once, in config/apps.json: they are the defaults under default.json and any environment file.
  let raw = deepMerge(manifestDefaults(manifest), read('default.json'));
  if (env.NODE_ENV) raw = deepMerge(raw, read(`${env.NODE_ENV}.json`));

  const problems: string[] = [];
  const overrides = { ...ENV_OVERRIDES, ...appPortOverrides(manifest) };
  for (const [name, [path, kind]] of Object.entries(overrides)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, parseEnv(name, value, kind, problems));
  }
  const config = plainToInstance(AppConfig, raw);
  // Only the sections this process uses must be valid: the gateway needs no admin token.
  for (const section of sections) {
    const value = config[section] as object | undefined;
    if (!value) problems.push(`${section}: missing`);
    else problems.push(...flatten(validateSync(value), section));
  }
  if (sections.includes('http') && config.http) problems.push(...httpProblems(config));
  if (problems.length) throw new ConfigError(problems);
  return config;
}
