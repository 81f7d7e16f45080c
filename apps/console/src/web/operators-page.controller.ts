import { Controller, Get, Req } from '@nestjs/common';
import { Roles } from '../operators/operator';
import { Html, WebPages } from './web-page';
import { pageOf, WebRequest } from './web-request';
import { PAGE_ROLES, WebViews } from './web-views';

/** Operators (admin only): a placeholder page until operator accounts provide the API behind it. */
@Controller('console/operators')
@WebPages()
@Roles(...PAGE_ROLES.operators)
export class OperatorsPageController {
  constructor(private readonly views: WebViews) {}

  @Get()
  @Html()
  show(@Req() req: WebRequest): string {
    return this.views.render('pages/operators.njk', pageOf(req), { title: 'Operators' });
  }
}
