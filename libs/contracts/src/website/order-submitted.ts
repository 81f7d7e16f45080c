import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  buildMessage,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsEmail,
  IsIn,
  IsInt,
  IsISO4217CurrencyCode,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { composeDecorators, decimalPlaces } from '../decorators';

export { decimalPlaces };

export const ORDER_STATUSES = [
  'new',
  'pending',
  'processing',
  'on_hold',
  'paid',
  'shipped',
  'delivered',
  'completed',
  'cancelled',
  'refunded',
  'failed',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const MONEY_DECIMALS = 4;

/**
 * A finite amount with at most MONEY_DECIMALS decimal places (the columns are numeric(18,4)). Not
 * IsNumber({ maxDecimalPlaces }): that throws on a fraction JavaScript prints in exponent form (1e-7), a 500
 * found by fuzzing.
 */
function IsMoney(): PropertyDecorator {
  return ValidateBy({
    name: 'isNumber',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'number' && Number.isFinite(v) && decimalPlaces(v) <= MONEY_DECIMALS,
      defaultMessage: buildMessage(
        (each) => `${each}$property must be a number with at most ${MONEY_DECIMALS} decimal places`,
      ),
    },
  });
}

/** ISO 8601 with a date and time, in years a business event can have (PostgreSQL has no year 0). */
export function IsTimestamp(): PropertyDecorator {
  return composeDecorators(
    IsISO8601({ strict: true, strictSeparator: true }),
    Matches(/^(19|20|21)\d\d-\d\d-\d\dT\d\d:\d\d/, {
      message: '$property must be a date and time in years 1900-2199',
    }),
  );
}

export class OrderCustomerDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  /** Required unless an email is given: a customer we cannot match is a customer we will duplicate. */
  @ValidateIf((o: OrderCustomerDto) => o.email === undefined || o.phone !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(40)
  phone?: string;

  @ValidateIf((o: OrderCustomerDto) => o.phone === undefined || o.email !== undefined)
  @IsEmail()
  @MaxLength(254)
  email?: string;
}

export class OrderItemDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  sku: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  name: string;

  @IsInt()
  @Min(1)
  @Max(1_000_000)
  quantity: number;

  @IsMoney()
  @Min(0)
  @Max(1e12)
  price: number;
}

export class UtmDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  source?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  medium?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  campaign?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  term?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  content?: string;
}

/** `website.order.submitted` v1: a generic JSON order from a website. */
export class OrderSubmittedV1 {
  /** The site's order id, kept exactly as sent (no trimming or case folding). */
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  externalId: string;

  @IsIn(ORDER_STATUSES)
  status: OrderStatus;

  @IsTimestamp()
  createdAt: string;

  /** Decides which of two versions of the same order wins; defaults to createdAt. */
  @IsOptional()
  @IsTimestamp()
  updatedAt?: string;

  @IsOptional()
  @IsTimestamp()
  paidAt?: string;

  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => OrderCustomerDto)
  customer: OrderCustomerDto;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  deliveryAddress?: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  // Each item must be an object: class-validator passes nested arrays ([[...]]) through ValidateNested.
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => OrderItemDto)
  items: OrderItemDto[];

  @IsMoney()
  @Min(0)
  @Max(1e12)
  total: number;

  @IsISO4217CurrencyCode()
  currency: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => UtmDto)
  utm?: UtmDto;

  /**
   * A test notification, not a real order (Shopify's X-Shopify-Test, a shop's "send test"): stored with
   * `test: true` so operators can see the integration works, and left out of reports and outbound pushes.
   */
  @IsOptional()
  @IsBoolean()
  test?: boolean;
}
