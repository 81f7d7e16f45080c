import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { OperatorGuard } from '../operators/operator.guard';
import { CurrentOperator, OperatorPrincipal, Roles, rowScope } from '../operators/operator';
import { RawQuery } from '../query-params';
import { BodyReader } from './body';
import { LeadsService } from './leads.service';
import { LeadReportService } from './lead-report.service';

/**
 * Leads: the list, the card with its history, and the lifecycle. A manager operator sees and works its own leads
 * and the unassigned new ones (to claim); another manager's lead is a 404 to it.
 */
@Controller('v1/crm')
@UseGuards(OperatorGuard)
@Roles('admin', 'supervisor', 'manager', 'auditor')
export class LeadsController {
  constructor(
    private readonly leads: LeadsService,
    private readonly report: LeadReportService,
  ) {}

  @Get('leads')
  list(@Query() q: RawQuery, @CurrentOperator() op: OperatorPrincipal) {
    return this.leads.list(q ?? {}, rowScope(op));
  }

  @Get('leads/:id')
  card(@Param('id') id: string, @CurrentOperator() op: OperatorPrincipal) {
    return this.leads.card(id, rowScope(op));
  }

  @Post('leads/:id/claim')
  @HttpCode(200)
  claim(@Param('id') id: string, @Body() body: unknown, @CurrentOperator() op: OperatorPrincipal) {
    // A manager operator claims for itself (issue 14); others name the manager.
    const scope = rowScope(op);
    return this.leads.claim(id, scope ?? managerIdOf(body), scope);
  }

  @Post('leads/:id/assign')
  @HttpCode(200)
  @Roles('admin', 'supervisor')
  assign(@Param('id') id: string, @Body() body: unknown) {
    return this.leads.assign(id, managerIdOf(body));
  }

  @Post('leads/:id/convert')
  @HttpCode(200)
  convert(@Param('id') id: string, @Body() body: unknown, @CurrentOperator() op: OperatorPrincipal) {
    const b = new BodyReader(body ?? {});
    let deal: { title: string; amount: number; currency: string } | undefined;
    if (b.has('deal')) {
      const d = new BodyReader(b.body.deal);
      const title = d.string('title', { required: true, max: 500 });
      const amount = d.body.amount;
      if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0 || amount > 1e12)
        d.fail('amount', 'isNumber', 'amount must be a number 0-1e12');
      const currency = d.string('currency', { required: true, max: 3 });
      if (currency && !/^[A-Z]{3}$/.test(currency))
        d.fail('currency', 'isCurrency', 'currency must be an ISO 4217 code');
      b.errors.push(...d.errors.map((e) => ({ ...e, field: `deal.${e.field}`.replace(/\.$/, '') })));
      deal = { title: title!, amount: amount as number, currency: currency! };
    }
    b.done();
    return this.leads.convert(id, { deal }, rowScope(op));
  }

  @Post('leads/:id/refuse')
  @HttpCode(200)
  refuse(@Param('id') id: string, @Body() body: unknown, @CurrentOperator() op: OperatorPrincipal) {
    const b = new BodyReader(body);
    const reason = b.string('reason', { required: true, max: 200 });
    b.done();
    return this.leads.refuse(id, reason!, rowScope(op));
  }

  @Post('leads/:id/reopen')
  @HttpCode(200)
  reopen(@Param('id') id: string, @CurrentOperator() op: OperatorPrincipal) {
    return this.leads.reopen(id, rowScope(op));
  }

  @Get('reports/leads')
  @Roles('admin', 'supervisor', 'auditor')
  leadReport(@Query() q: RawQuery) {
    return this.report.report(q ?? {});
  }
}

function managerIdOf(body: unknown): string {
  const b = new BodyReader(body);
  const id = b.uuid('managerId', { required: true });
  b.done();
  return id!;
}
