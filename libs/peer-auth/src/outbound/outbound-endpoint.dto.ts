import { CRM_CHANGE_TYPES } from '@switchboard/crm';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
} from 'class-validator';
import { WHSEC } from './whsec';

/**
 * A peer's outbound endpoint (`PATCH /v1/admin/peers/:id` `{"outbound": {...}}`; null removes it): where CRM
 * changes of the listed types are POSTed, signed with `secret` (Standard Webhooks, `whsec_` + base64 of 24-64
 * random bytes). The secret is required the first time; omitted later, the stored one stays.
 */
export class OutboundEndpointDto {
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'outbound.url must be an http(s) URL' },
  )
  @MaxLength(2048)
  url: string;

  @IsOptional()
  @IsString()
  @Matches(WHSEC, {
    message: 'outbound.secret must be a whsec_ secret: whsec_ + base64 of 24-64 random bytes',
  })
  @MaxLength(200)
  secret?: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(CRM_CHANGE_TYPES.length)
  @IsIn(CRM_CHANGE_TYPES, {
    each: true,
    message: `each event type must be one of ${CRM_CHANGE_TYPES.join(', ')}`,
  })
  eventTypes: string[];
}
