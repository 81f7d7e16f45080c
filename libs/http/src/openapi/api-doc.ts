import { SetMetadata } from '@nestjs/common';
import type { AnyClass, JsonSchema } from '@switchboard/contracts';

export const API_DOC = 'switchboard:api-doc';

/** The security schemes the document declares (components.securitySchemes); see openapi-document.ts. */
export type SecuritySchemeName =
  'bearer' | 'basic' | 'apiKey' | 'standardWebhook' | 'providerSignature' | 'operatorSession';

export interface ApiBodyDoc {
  /** The contract class(es) the handler validates the body against (oneOf when several). */
  dto?: AnyClass | AnyClass[];
  /** The route takes one item or a batch (a JSON array of 1..maxItems items). */
  batchMaxItems?: number;
  /** Extra JSON members the route reads before validating the rest against `dto` (e.g. `type`). */
  extraProperties?: Record<string, JsonSchema>;
  /** Bodies in a provider's own format, described rather than schematised: media type -> description. */
  raw?: Record<string, string>;
  description?: string;
  required?: boolean;
}

export interface ApiResponseDoc {
  description: string;
  dto?: AnyClass;
  schema?: JsonSchema;
  /** Defaults to application/json. */
  contentType?: string;
}

/**
 * What the route table and the validators cannot tell about a route: its summary, which contract its body is
 * checked against when the handler takes `unknown` and validates itself, and its success answers. Everything
 * else (path, method, parameters, status, guards) comes from Nest's own metadata. On a controller it applies
 * to each of its routes (a route's own doc wins, field by field).
 */
export interface ApiDocOptions {
  summary?: string;
  description?: string;
  tags?: string[];
  body?: ApiBodyDoc;
  responses?: Record<number, ApiResponseDoc>;
  /** Overrides the schemes derived from the route's guards. [] = no authentication. */
  security?: SecuritySchemeName[][];
}

export const ApiDoc = (doc: ApiDocOptions) => SetMetadata(API_DOC, doc);
