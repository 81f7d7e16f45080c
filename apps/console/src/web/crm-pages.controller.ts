import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { CallQueryService } from '../call-query.service';
import { CrmQueryService } from '../crm-query.service';
import { Roles } from '../operators/operator';
import { Html, WebPages } from './web-page';
import { formQuery, pageOf, WebRequest } from './web-request';
import { PAGE_ROLES, queryString, WebViews } from './web-views';

const DIRECTIONS = ['inbound', 'outbound', 'internal'];
const DISPOSITIONS = ['answered', 'missed', 'busy', 'failed', 'no-answer', 'cancelled', 'voicemail'];

/** Contacts (search and the card) and calls (list and one call with its timeline), read-only. */
@Controller('console')
@WebPages()
export class CrmPagesController {
  constructor(
    private readonly views: WebViews,
    private readonly crm: CrmQueryService,
    private readonly calls: CallQueryService,
  ) {}

  @Get('contacts')
  @Roles(...PAGE_ROLES.contacts)
  @Html()
  async contacts(@Req() req: WebRequest, @Query() raw: unknown): Promise<string> {
    const form = (raw ?? {}) as Record<string, string>;
    const items = await this.crm.contacts({ limit: '50', ...formQuery(form) });
    return this.views.render('pages/contacts.njk', pageOf(req), { title: 'Contacts', form, items });
  }

  @Get('contacts/:id')
  @Roles(...PAGE_ROLES.contacts)
  @Html()
  async contact(@Req() req: WebRequest, @Param('id') id: string): Promise<string> {
    const contact = await this.crm.contact(id);
    return this.views.render('pages/contact.njk', pageOf(req), {
      title: `Contact ${contact.name ?? contact.id}`,
      contact,
    });
  }

  @Get('calls')
  @Roles(...PAGE_ROLES.calls)
  @Html()
  async callList(@Req() req: WebRequest, @Query() raw: unknown): Promise<string> {
    const form = (raw ?? {}) as Record<string, string>;
    const q = formQuery(form);
    const page = await this.calls.list({ limit: '50', ...q });
    const { cursor: _c, ...filters } = form;
    return this.views.render('pages/calls.njk', pageOf(req), {
      title: 'Calls',
      form,
      directions: DIRECTIONS,
      dispositions: DISPOSITIONS,
      items: page.items,
      next: page.nextCursor ? `/console/calls${queryString({ ...filters, cursor: page.nextCursor })}` : null,
    });
  }

  @Get('calls/:id')
  @Roles(...PAGE_ROLES.calls)
  @Html()
  async call(@Req() req: WebRequest, @Param('id') id: string): Promise<string> {
    const call = await this.calls.get(id);
    return this.views.render('pages/call.njk', pageOf(req), { title: 'Call', call });
  }
}
