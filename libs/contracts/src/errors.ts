/**
 * Stable error codes. They are part of the public API: peers and operators match on them, so a code is
 * never renamed or reused. Edges (HTTP filter, AMQP error policy) translate them; the domain knows no HTTP.
 */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_BODY: 'MALFORMED_BODY',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  AUTH_MISSING: 'AUTH_MISSING',
  AUTH_INVALID: 'AUTH_INVALID',
  AUTH_EXPIRED: 'AUTH_EXPIRED',
  AUTH_REVOKED: 'AUTH_REVOKED',
  AUTH_IP_DENIED: 'AUTH_IP_DENIED',
  AUTH_SCOPE_DENIED: 'AUTH_SCOPE_DENIED',
  AUTH_SIGNATURE_INVALID: 'AUTH_SIGNATURE_INVALID',
  AUTH_REPLAYED: 'AUTH_REPLAYED',
  AUTH_LOCKED: 'AUTH_LOCKED',
  AUTH_URL_CREDENTIALS_DISABLED: 'AUTH_URL_CREDENTIALS_DISABLED',
  RATE_LIMITED: 'RATE_LIMITED',
  AUTH_UNAVAILABLE: 'AUTH_UNAVAILABLE',
  CONFLICT: 'CONFLICT',
  BROKER_UNAVAILABLE: 'BROKER_UNAVAILABLE',
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  UNKNOWN_EVENT_TYPE: 'UNKNOWN_EVENT_TYPE',
  XML_MALFORMED: 'XML_MALFORMED',
  XML_UNSAFE: 'XML_UNSAFE',
  UNSUPPORTED_DOCUMENT: 'UNSUPPORTED_DOCUMENT',
  OTP_INVALID: 'OTP_INVALID',
  OTP_EXPIRED: 'OTP_EXPIRED',
  OTP_LOCKED: 'OTP_LOCKED',
  OTP_USED: 'OTP_USED',
  OTP_RATE_LIMITED: 'OTP_RATE_LIMITED',
  NO_MESSAGE_CHANNEL: 'NO_MESSAGE_CHANNEL',
  PASSWORD_TOO_SHORT: 'PASSWORD_TOO_SHORT',
  PASSWORD_COMMON: 'PASSWORD_COMMON',
  PASSWORD_CONTAINS_IDENTITY: 'PASSWORD_CONTAINS_IDENTITY',
  PASSWORD_REUSED: 'PASSWORD_REUSED',
  PASSWORD_CHANGE_REQUIRED: 'PASSWORD_CHANGE_REQUIRED',
  TOTP_REQUIRED: 'TOTP_REQUIRED',
  TOTP_INVALID: 'TOTP_INVALID',
  TOTP_ENROLMENT_REQUIRED: 'TOTP_ENROLMENT_REQUIRED',
  ROLE_FORBIDDEN: 'ROLE_FORBIDDEN',
  CSRF_INVALID: 'CSRF_INVALID',
  RESET_CODE_INVALID: 'RESET_CODE_INVALID',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface FieldError {
  /** Dotted path into the request body, e.g. `items.0.quantity`. */
  field: string;
  /** Machine-readable rule that failed, e.g. `isInt`, `whitelistValidation`. */
  rule: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Permanent errors are never retried: the same input fails the same way. */
    readonly permanent = false,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A problem answer lists at most this many field errors; `errorCount` says how many there were. */
export const MAX_REPORTED_ERRORS = 20;

export class ContractViolation extends DomainError {
  /** The first MAX_REPORTED_ERRORS field errors. */
  readonly errors: FieldError[];
  /** How many field errors there were in all (more than `errors.length` when the list was cut). */
  readonly errorCount: number;

  constructor(
    errors: FieldError[],
    message = 'The request body does not match the contract.',
    /** When `errors` is itself a cut list (merged from another violation): the full count. */
    errorCount = errors.length,
  ) {
    super(ErrorCode.VALIDATION_FAILED, message, true);
    this.errors = errors.length > MAX_REPORTED_ERRORS ? errors.slice(0, MAX_REPORTED_ERRORS) : errors;
    this.errorCount = Math.max(errorCount, errors.length);
  }
}

export class BrokerUnavailableError extends DomainError {
  constructor(message = 'The message broker did not confirm the event; nothing was accepted.') {
    super(ErrorCode.BROKER_UNAVAILABLE, message);
  }
}

export class NotFoundError extends DomainError {
  constructor(message = 'Not found.') {
    super(ErrorCode.NOT_FOUND, message, true);
  }
}

export type AuthErrorCode =
  | 'AUTH_MISSING'
  | 'AUTH_INVALID'
  | 'AUTH_EXPIRED'
  | 'AUTH_REVOKED'
  | 'AUTH_IP_DENIED'
  | 'AUTH_SCOPE_DENIED'
  | 'AUTH_SIGNATURE_INVALID'
  | 'AUTH_REPLAYED'
  | 'AUTH_LOCKED'
  | 'AUTH_URL_CREDENTIALS_DISABLED'
  | 'RATE_LIMITED'
  | 'AUTH_UNAVAILABLE';

export class AuthError extends DomainError {
  constructor(
    code: AuthErrorCode,
    message: string,
    /** For AUTH_LOCKED / RATE_LIMITED / AUTH_UNAVAILABLE: when the caller may try again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message, true);
  }
}

/** A request that contradicts stored state (an id taken, a peer without a usable credential). */
export class ConflictError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.CONFLICT, message, true);
  }
}

export type OtpErrorCode =
  'OTP_INVALID' | 'OTP_EXPIRED' | 'OTP_LOCKED' | 'OTP_USED' | 'OTP_RATE_LIMITED' | 'NO_MESSAGE_CHANNEL';

/** A one-time code refused (wrong, expired, locked, used) or not issued (rate limit, no channel configured). */
export class OtpError extends DomainError {
  constructor(
    code: OtpErrorCode,
    message: string,
    /** For OTP_RATE_LIMITED: when the caller may ask again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message, true);
  }
}
