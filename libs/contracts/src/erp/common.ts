import {
  buildMessage,
  IsEmail,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';
import { composeDecorators, decimalPlaces } from '../decorators';

/**
 * The ERP's version of a fact: any non-negative integer that grows with each change of the same record (1C
 * uploads use the upload's epoch microseconds; a JSON peer may send its change counter or epoch milliseconds).
 * An older version never overwrites a newer one; an equal one changes nothing.
 */
export function IsVersion(): PropertyDecorator {
  return composeDecorators(IsInt(), Min(0), Max(Number.MAX_SAFE_INTEGER));
}

/** A finite decimal with at most `places` decimal places (columns are numeric(18,4) / numeric(18,3)). */
export function IsDecimal(places: number, min = -1e12, max = 1e12): PropertyDecorator {
  return ValidateBy({
    name: 'isDecimal',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'number' && Number.isFinite(v) && decimalPlaces(v) <= places && v >= min && v <= max,
      defaultMessage: buildMessage(
        (each) =>
          `${each}$property must be a number in [${min}, ${max}] with at most ${places} decimal places`,
      ),
    },
  });
}

/** A calendar date (2026-12-01) or a date and time; years 1900-2199. */
export function IsBusinessDate(): PropertyDecorator {
  return composeDecorators(
    IsISO8601({ strict: true }),
    Matches(/^(19|20|21)\d\d-\d\d-\d\d/, { message: '$property must be a date in years 1900-2199' }),
  );
}

/** The ERP's identity of a record: 1C `Ид` (GUID, `<guid>#<characteristic guid>` for a variant) or any id. */
export function IsExternalId(): PropertyDecorator {
  return composeDecorators(IsString(), IsNotEmpty(), MaxLength(200));
}

/** Optional short text. */
export function OptionalText(max = 500): PropertyDecorator {
  return composeDecorators(IsOptional(), IsString(), MaxLength(max));
}

export function OptionalEmail(): PropertyDecorator {
  return composeDecorators(IsOptional(), IsEmail(), MaxLength(254));
}
