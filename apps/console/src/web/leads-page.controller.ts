import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { ContractViolation } from '@switchboard/contracts';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { LeadsService } from '../leads/leads.service';
import { Roles } from '../operators/operator';
import { Html, seeOther, WebPages } from './web-page';
import { field, formQuery, pageOf, WebRequest } from './web-request';
import { PAGE_ROLES, queryString, WebViews } from './web-views';

const STATUSES = ['new', 'in_progress', 'converted', 'refused', 'unqualified', 'junk'];

/** Where to go back to after an action: the inbox with its filters, never another site. */
function backTo(body: unknown): string {
  const back = field(body, 'back');
  return /^\/console\/leads(\?[^\s]*)?$/.test(back) ? back : '/console/leads';
}

/** The leads inbox: filter, then claim, assign, convert or refuse, each a plain form (htmx only speeds it up). */
@Controller('console/leads')
@WebPages()
@Roles(...PAGE_ROLES.leads)
export class LeadsPageController {
  constructor(
    private readonly views: WebViews,
    private readonly leads: LeadsService,
    private readonly ds: DataSource,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @Html()
  async inbox(@Req() req: WebRequest, @Query() raw: unknown): Promise<string> {
    const form: Record<string, string> = { status: 'new', ...((raw ?? {}) as Record<string, string>) };
    const q = formQuery(form);
    if (q.status === 'any') delete q.status;
    // A manager's inbox is their own leads (the API enforces the same with operator roles).
    const operator = req.operator;
    if (operator?.role === 'manager' && operator.managerId) q.managerId = operator.managerId;
    const [page, managers] = await Promise.all([
      this.leads.list({ limit: '50', ...q }),
      this.ds.query<Array<{ id: string; name: string }>>(
        `SELECT id, name FROM managers WHERE active ORDER BY name, id`,
      ),
    ]);
    const { cursor: _c, ...filters } = form;
    const here = `/console/leads${queryString(form)}`;
    return this.views.render('pages/leads.njk', pageOf(req), {
      title: 'Leads inbox',
      form,
      statuses: STATUSES,
      managers,
      managerNames: Object.fromEntries(managers.map((m) => [m.id, m.name])),
      refuseReasons: this.config.crm.leads.refuseReasons,
      items: page.items,
      here,
      next: page.nextCursor ? `/console/leads${queryString({ ...filters, cursor: page.nextCursor })}` : null,
      readOnly: operator?.role === 'auditor',
      ownManagerId: operator?.role === 'manager' ? operator.managerId : null,
    });
  }

  @Post(':id/claim')
  async claim(
    @Req() req: WebRequest,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ) {
    await this.leads.claim(id, this.managerFor(req, body));
    return seeOther(reply, backTo(body));
  }

  @Post(':id/assign')
  async assign(
    @Req() req: WebRequest,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ) {
    await this.leads.assign(id, this.managerFor(req, body));
    return seeOther(reply, backTo(body));
  }

  /** Converts into a contact (found or made); with a deal when a title is given. */
  @Post(':id/convert')
  async convert(@Param('id') id: string, @Body() body: unknown, @Res() reply: FastifyReply) {
    const title = field(body, 'dealTitle');
    let deal: { title: string; amount: number; currency: string } | undefined;
    if (title) {
      const amount = Number(field(body, 'dealAmount') || '0');
      const currency = (field(body, 'dealCurrency') || 'RUB').toUpperCase();
      const errors = [];
      if (!Number.isFinite(amount) || amount < 0 || amount > 1e12)
        errors.push({ field: 'dealAmount', rule: 'isNumber', message: 'amount must be a number 0-1e12' });
      if (!/^[A-Z]{3}$/.test(currency))
        errors.push({
          field: 'dealCurrency',
          rule: 'isCurrency',
          message: 'currency must be an ISO 4217 code',
        });
      if (title.length > 500)
        errors.push({
          field: 'dealTitle',
          rule: 'maxLength',
          message: 'title must be at most 500 characters',
        });
      if (errors.length) throw new ContractViolation(errors);
      deal = { title, amount, currency };
    }
    const lead = await this.leads.convert(id, { deal });
    const contactId = (lead as { convertedContactId?: string | null } | null)?.convertedContactId;
    return seeOther(reply, contactId ? `/console/contacts/${contactId}` : backTo(body));
  }

  @Post(':id/refuse')
  async refuse(@Param('id') id: string, @Body() body: unknown, @Res() reply: FastifyReply) {
    await this.leads.refuse(id, field(body, 'reason'));
    return seeOther(reply, backTo(body));
  }

  /** A manager acts as themself; others choose the manager in the form. */
  private managerFor(req: WebRequest, body: unknown): string {
    if (req.operator?.role === 'manager' && req.operator.managerId) return req.operator.managerId;
    const managerId = field(body, 'managerId');
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(managerId))
      throw new ContractViolation([{ field: 'managerId', rule: 'isUuid', message: 'choose a manager' }]);
    return managerId;
  }
}
