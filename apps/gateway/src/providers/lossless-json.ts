import { isInteger, isSafeNumber, parse } from 'lossless-json';

/**
 * A provider's JSON body with every integer exact: Shopify (and any shop on 64-bit keys) sends ids such as
 * 820982911946154508 as JSON numbers, which JSON.parse rounds to somebody else's id. Integers beyond 2^53 come
 * back as their exact decimal text; every other number is the same JS number JSON.parse gives, so amounts and
 * quantities read as before. Returns undefined when the text is not JSON this parser takes (e.g. a duplicated
 * key, which JSON.parse tolerates): the caller then keeps the body the HTTP layer parsed, as before.
 */
export function parseLosslessJson(text: string): unknown {
  try {
    return parse(text, null, (digits) =>
      isInteger(digits) && !isSafeNumber(digits) ? digits : Number(digits),
    );
  } catch {
    return undefined;
  }
}

// a decimal fraction ending in 0 (`1712345678.10`): a float keeps 1712345678.1, another call's id
const TRAILING_ZERO_FRACTION = /^-?\d+\.\d*0$/;

/**
 * A PBX's JSON where numbers are often ids (Asterisk `uniqueid` 1712345678.10, 64-bit call ids): any number a
 * JS number cannot give back digit for digit comes back as its exact text, the rest as numbers. Falls back to
 * JSON.parse for what lossless-json refuses but JSON.parse takes (duplicated keys); throws SyntaxError like it.
 */
export function parseExactJson(text: string): unknown {
  try {
    return parse(text, null, (digits) =>
      (isInteger(digits) && !isSafeNumber(digits)) || TRAILING_ZERO_FRACTION.test(digits)
        ? digits
        : Number(digits),
    );
  } catch {
    return JSON.parse(text) as unknown;
  }
}

const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** Whether a Content-Type header names JSON (`application/json`, `application/vnd.x+json`, with parameters). */
export const isJsonMediaType = (contentType: string | string[] | undefined): boolean =>
  typeof contentType === 'string' && JSON_MEDIA_TYPE.test(contentType.trim());
