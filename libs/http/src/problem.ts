import { ErrorCode, FieldError } from '@switchboard/contracts';

/** RFC 9457 problem details, with our stable `code` and optional field errors as extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: ErrorCode;
  traceId?: string;
  /** The first MAX_REPORTED_ERRORS (libs/contracts) field errors. */
  errors?: FieldError[];
  /** How many field errors there were; more than `errors.length` when the list was cut. */
  errorCount?: number;
  /** Not serialized: becomes the Retry-After header. */
  retryAfter?: number;
}

const TABLE: Record<ErrorCode, [status: number, title: string]> = {
  VALIDATION_FAILED: [400, 'The request body does not match the contract'],
  MALFORMED_BODY: [400, 'The request body could not be parsed'],
  PAYLOAD_TOO_LARGE: [413, 'The request body is too large'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Unsupported content type'],
  NOT_FOUND: [404, 'Not found'],
  METHOD_NOT_ALLOWED: [405, 'Method not allowed'],
  AUTH_MISSING: [401, 'Authentication required'],
  AUTH_INVALID: [401, 'Authentication failed'],
  AUTH_EXPIRED: [401, 'The credential has expired'],
  AUTH_REVOKED: [401, 'The credential has been revoked'],
  AUTH_IP_DENIED: [403, 'Calls from this address are not allowed for this peer'],
  AUTH_SCOPE_DENIED: [403, 'This peer may not use this route'],
  AUTH_SIGNATURE_INVALID: [401, 'The request signature is not valid'],
  AUTH_REPLAYED: [401, 'This signed request was already received'],
  AUTH_LOCKED: [429, 'Too many failed authentication attempts'],
  AUTH_URL_CREDENTIALS_DISABLED: [401, 'Credentials in the URL are not accepted'],
  RATE_LIMITED: [429, 'Too many requests'],
  AUTH_UNAVAILABLE: [503, 'Authentication is temporarily unavailable'],
  CONFLICT: [409, 'Conflict'],
  BROKER_UNAVAILABLE: [503, 'Temporarily unable to accept events'],
  DATABASE_UNAVAILABLE: [503, 'Temporarily unable to serve this request'],
  SHUTTING_DOWN: [503, 'Shutting down; retry on another instance or shortly'],
  REQUEST_TIMEOUT: [408, 'The request was not received in time'],
  TOO_MANY_CONNECTIONS: [429, 'Too many open connections from this address'],
  UNKNOWN_EVENT_TYPE: [400, 'Unknown event type'],
  XML_MALFORMED: [400, 'The XML document is not well-formed'],
  XML_UNSAFE: [400, 'The XML document uses a refused construct (DTD, depth, size)'],
  UNSUPPORTED_DOCUMENT: [400, 'Unsupported document type'],
  OTP_INVALID: [422, 'The code is wrong'],
  OTP_EXPIRED: [410, 'The code has expired'],
  OTP_LOCKED: [423, 'Too many wrong codes; ask for a new one'],
  OTP_USED: [409, 'The code was already used'],
  OTP_RATE_LIMITED: [429, 'Too many codes requested'],
  NO_MESSAGE_CHANNEL: [503, 'No message channel (WhatsApp or SMS) is configured'],
  PASSWORD_TOO_SHORT: [400, 'The password is too short'],
  PASSWORD_COMMON: [400, 'The password is on the list of common passwords'],
  PASSWORD_CONTAINS_IDENTITY: [400, "The password contains the operator's name or email"],
  PASSWORD_REUSED: [400, 'The password was used recently'],
  PASSWORD_CHANGE_REQUIRED: [403, 'The password must be changed first'],
  TOTP_REQUIRED: [401, 'A one-time code (TOTP) is required'],
  TOTP_INVALID: [401, 'The one-time code was not accepted'],
  TOTP_ENROLMENT_REQUIRED: [403, 'Two-factor enrolment is required first'],
  ROLE_FORBIDDEN: [403, "The operator's role does not allow this"],
  CSRF_INVALID: [403, 'The CSRF token is missing or wrong'],
  RESET_CODE_INVALID: [400, 'The reset code is wrong or expired'],
  INTERNAL: [500, 'Internal error'],
};

export function statusOf(code: ErrorCode): number {
  return TABLE[code][0];
}

export function problem(
  code: ErrorCode,
  detail?: string,
  extra: Partial<ProblemDetails> = {},
): ProblemDetails {
  const [status, title] = TABLE[code];
  return {
    type: `urn:switchboard:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    detail: detail ?? title,
    code,
    ...extra,
  };
}
