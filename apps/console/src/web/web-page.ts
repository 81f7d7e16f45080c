import { applyDecorators, Header, UseFilters, UseGuards } from '@nestjs/common';
import { OperatorGuard } from '../operators/operator.guard';
import { WebErrorFilter } from './web-error.filter';

/**
 * Every console page: signed in by the operator session (OperatorGuard: session cookie, CSRF on every form post,
 * roles), errors as HTML.
 */
export const WebPages = () => applyDecorators(UseGuards(OperatorGuard), UseFilters(WebErrorFilter));

/** A handler answering an HTML page. */
export const Html = () => Header('content-type', 'text/html; charset=utf-8');

/** Where a state-changing form goes next: Post/Redirect/Get, so reloading never repeats the action. */
export function seeOther(
  reply: { code(n: number): { header(k: string, v: string): { send(): unknown } } },
  to: string,
) {
  return reply.code(303).header('location', to).send();
}
