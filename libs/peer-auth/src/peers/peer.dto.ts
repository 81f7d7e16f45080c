import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidateIf,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  IsBoolean,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { OutboundEndpointDto } from '../outbound/outbound-endpoint.dto';
import { parseCidr } from './ip-allowlist';
import {
  ORDER_ENCODINGS,
  PEER_ID,
  PEER_KINDS,
  PEER_PROVIDERS,
  PEER_STATUSES,
  TEST_DELIVERIES,
} from './model';
import type { OrderEncoding, PeerKind, PeerProvider, PeerStatus, TestDeliveries } from './model';
import { SCOPE } from './scopes';

@ValidatorConstraint({ name: 'isCidr' })
class IsCidrConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseCidr(value) !== null;
  }
  defaultMessage(): string {
    return 'each entry must be an IP address or CIDR, e.g. 203.0.113.0/24';
  }
}

@ValidatorConstraint({ name: 'isTimeZone' })
class IsTimeZoneConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'timezone must be an IANA time zone, e.g. Europe/Moscow';
  }
}

/** Fields an operator may change; every one optional. */
export class UpdatePeerDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @IsOptional()
  @IsIn(PEER_PROVIDERS)
  provider?: PeerProvider;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(SCOPE, { each: true, message: 'each scope must be an event type, an area like website.*, or *' })
  scopes?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Validate(IsCidrConstraint, { each: true })
  ipAllowlist?: string[];

  /** null clears it (the configured default applies). */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  rateLimitPerMinute?: number | null;

  @IsOptional()
  @IsIn(PEER_STATUSES)
  status?: PeerStatus;

  /** The provider's webhook secret (stored encrypted); null removes it. */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  signingSecret?: string | null;

  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @Validate(IsTimeZoneConstraint)
  timezone?: string | null;

  /** `mark` (default): test notifications are kept with `test: true`; `drop`: answered 200, not published. */
  @IsOptional()
  @IsIn(TEST_DELIVERIES)
  testDeliveries?: TestDeliveries;

  /** A 1C peer's encoding of `sale&mode=query`: windows-1251 or utf-8; null = the configured default. */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsIn(ORDER_ENCODINGS)
  orderEncoding?: OrderEncoding | null;
  /**
   * Legacy systems that cannot send headers: accept this peer's token in the URL (`?access_token=`,
   * `?login=&password=`). Off by default: URLs end up in proxy and browser logs.
   */
  @IsOptional()
  @IsBoolean()
  allowUrlCredentials?: boolean;

  /** Where Switchboard POSTs CRM changes for this peer (signed webhooks); null removes it. */
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @ValidateNested()
  @Type(() => OutboundEndpointDto)
  outbound?: OutboundEndpointDto | null;
}

export class CreatePeerDto extends UpdatePeerDto {
  /** Slug; derived from the name when omitted. */
  @IsOptional()
  @IsString()
  @Matches(PEER_ID, { message: 'id must be a slug: lower-case letters, digits and dashes, 2-63 characters' })
  id?: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  declare name: string;

  @IsIn(PEER_KINDS)
  kind: PeerKind;

  /** Lifetime of the first credential; the configured policy when omitted. */
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.00001)
  @Max(3650)
  expiresInDays?: number;
}

export class IssueCredentialDto {
  /**
   * After a suspected leak: revoke every other credential of the peer now, instead of letting them retire after
   * the overlap window.
   */
  @IsOptional()
  @IsBoolean()
  revokeOld?: boolean;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.00001)
  @Max(3650)
  expiresInDays?: number;
}
