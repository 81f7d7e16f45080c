import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsConsents } from './lead-submitted';
import { IsTimestamp } from './order-submitted';

/** A postal address as sites keep it (WooCommerce billing, Shopify customer address): every part optional. */
export class CustomerAddressDto {
  /** ISO 3166-1 alpha-2. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z]{2}$/, { message: '$property must be an ISO 3166-1 alpha-2 code such as RU' })
  country?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  region?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  city?: string;

  @IsOptional()
  @IsString()
  @MaxLength(20)
  postalCode?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  line1?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  line2?: string;
}

/**
 * `website.customer.updated` v1: the state of one personal account on the site after a change. `version` is the
 * site's own, ever-growing revision of the account (a counter or its updated-at in epoch milliseconds): the card
 * takes a version newer than the one it has and ignores an older or equal one, so out-of-order deliveries end
 * in the same state. A field left out is left as it is on the card; `null` clears name, birthday or address.
 * Phones and emails are added to the card (never removed: the card gathers every way the customer reached us).
 */
export class CustomerUpdatedV1 {
  /** The site's id of the account, kept exactly as sent: the link between the account and the card. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  siteCustomerId: string;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  version: number;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(40, { each: true })
  phones?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsEmail({}, { each: true })
  @MaxLength(254, { each: true })
  emails?: string[];

  /** A calendar date, YYYY-MM-DD. */
  @IsOptional()
  @IsString()
  @Matches(/^(19|20)\d\d-\d\d-\d\d$/, { message: '$property must be a date YYYY-MM-DD in 1900-2099' })
  @IsISO8601({ strict: true })
  birthday?: string | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => CustomerAddressDto)
  address?: CustomerAddressDto | null;

  /** The account's consents ({"marketingEmail": true}); named answers not sent are kept as they were. */
  @IsOptional()
  @IsObject()
  @IsConsents()
  consents?: Record<string, boolean>;

  /** When the account changed on the site (envelope occurredAt); the time of receipt when left out. */
  @IsOptional()
  @IsTimestamp()
  updatedAt?: string;
}
