import { Type } from 'class-transformer';
import {
  buildMessage,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { IsTimestamp, UtmDto } from './order-submitted';

export const LEAD_KINDS = ['form', 'callback', 'subscription', 'quiz', 'chat'] as const;
export type LeadKind = (typeof LEAD_KINDS)[number];

/** Consents as the form recorded them: at most 20 named yes/no answers ({"personalData": true}). */
export function IsConsents(): PropertyDecorator {
  return ValidateBy({
    name: 'isConsents',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.keys(v).length <= 20 &&
        Object.entries(v).every(([k, x]) => k.length <= 100 && typeof x === 'boolean'),
      defaultMessage: buildMessage(
        (each) => `${each}$property must map at most 20 consent names to true or false`,
      ),
    },
  });
}

/**
 * `website.lead.submitted` v1: one request from a site (form, callback request, subscription, quiz, chat).
 * Phone and email are optional and not judged here: a request nobody can be reached by is still kept (as an
 * unqualified lead), so qualification happens in the connector, never as a refusal at the edge.
 */
export class LeadSubmittedV1 {
  @IsIn(LEAD_KINDS)
  kind: LeadKind;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  formId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  formName?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @IsOptional()
  @IsString()
  @MaxLength(40)
  phone?: string;

  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;

  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  message?: string;

  @IsOptional()
  @IsObject()
  @IsConsents()
  consents?: Record<string, boolean>;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  pageUrl?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  referrer?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => UtmDto)
  utm?: UtmDto;

  /** The analytics cookie's client id (Google Analytics cid, Yandex Metrica ClientID). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  analyticsClientId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  siteCustomerId?: string;

  /** A field the site hides from people; a bot fills it. Any value marks the lead as junk. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  honeypot?: string;

  /** The site's own id of this submission, when it has one (Tilda's tranid): the natural key. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  submissionId?: string;

  @IsTimestamp()
  occurredAt: string;
}
