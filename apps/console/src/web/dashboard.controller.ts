import { Controller, Get, Req } from '@nestjs/common';
import { Roles } from '../operators/operator';
import { DashboardService } from './dashboard.service';
import { Html, WebPages } from './web-page';
import { pageOf, WebRequest } from './web-request';
import { PAGE_ROLES, WebViews } from './web-views';

@Controller('console')
@WebPages()
export class DashboardPageController {
  constructor(
    private readonly views: WebViews,
    private readonly dashboard: DashboardService,
  ) {}

  @Get()
  @Roles(...PAGE_ROLES.dashboard)
  @Html()
  async show(@Req() req: WebRequest): Promise<string> {
    const data = await this.dashboard.dashboard();
    return this.views.render('pages/dashboard.njk', pageOf(req), { title: 'Dashboard', ...data });
  }
}
