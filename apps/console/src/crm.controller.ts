import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { OperatorGuard } from './operators/operator.guard';
import { CallQueryService, RawQuery } from './call-query.service';
import { ContactQuery, CrmQueryService, DealQuery } from './crm-query.service';
import { CustomersService } from './customers/customers.service';

@Controller('v1/crm')
@UseGuards(OperatorGuard)
export class CrmController {
  constructor(
    private readonly crm: CrmQueryService,
    private readonly calls: CallQueryService,
    private readonly customers: CustomersService,
  ) {}

  @Get('contacts')
  async contacts(@Query() q: ContactQuery) {
    return { items: await this.crm.contacts(q ?? {}) };
  }

  /** The card, with its loyalty (spend, tier, discount and its source) and linked site accounts. */
  @Get('contacts/:id')
  async contact(@Param('id') id: string) {
    const card = await this.crm.contact(id);
    return { ...card, ...(await this.customers.cardExtras(id)) };
  }

  @Get('deals')
  async deals(@Query() q: DealQuery) {
    return { items: await this.crm.deals(q ?? {}) };
  }

  @Get('calls')
  callLogs(@Query() q: RawQuery) {
    return this.calls.list(q ?? {});
  }

  /** Declared before `calls/:id` so "stats" is never read as an id. */
  @Get('calls/stats')
  callStats(@Query() q: RawQuery) {
    return this.calls.stats(q ?? {});
  }

  @Get('calls/:id')
  callLog(@Param('id') id: string) {
    return this.calls.get(id);
  }
}
