import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { OperatorGuard } from './operators/operator.guard';
import { CurrentOperator, OperatorPrincipal, Roles, rowScope } from './operators/operator';
import { CallQueryService, RawQuery } from './call-query.service';
import { ContactQuery, CrmQueryService, DealQuery } from './crm-query.service';
import { CustomersService } from './customers/customers.service';

/** CRM reads; a manager operator gets only the rows it is responsible for (the filter is in the queries). */
@Controller('v1/crm')
@UseGuards(OperatorGuard)
@Roles('admin', 'supervisor', 'manager', 'auditor')
export class CrmController {
  constructor(
    private readonly crm: CrmQueryService,
    private readonly calls: CallQueryService,
    private readonly customers: CustomersService,
  ) {}

  @Get('contacts')
  async contacts(@Query() q: ContactQuery, @CurrentOperator() op: OperatorPrincipal) {
    return { items: await this.crm.contacts(q ?? {}, rowScope(op)) };
  }

  /** The card, with its loyalty (spend, tier, discount and its source) and linked site accounts. */
  @Get('contacts/:id')
  async contact(@Param('id') id: string, @CurrentOperator() op: OperatorPrincipal) {
    const card = await this.crm.contact(id, rowScope(op));
    return { ...card, ...(await this.customers.cardExtras(id)) };
  }

  @Get('deals')
  async deals(@Query() q: DealQuery, @CurrentOperator() op: OperatorPrincipal) {
    return { items: await this.crm.deals(q ?? {}, rowScope(op)) };
  }

  @Get('calls')
  callLogs(@Query() q: RawQuery, @CurrentOperator() op: OperatorPrincipal) {
    return this.calls.list(q ?? {}, rowScope(op));
  }

  /** Declared before `calls/:id` so "stats" is never read as an id. */
  @Get('calls/stats')
  callStats(@Query() q: RawQuery, @CurrentOperator() op: OperatorPrincipal) {
    return this.calls.stats(q ?? {}, rowScope(op));
  }

  @Get('calls/:id')
  callLog(@Param('id') id: string, @CurrentOperator() op: OperatorPrincipal) {
    return this.calls.get(id, rowScope(op));
  }
}
