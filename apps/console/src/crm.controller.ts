import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { OperatorGuard } from './operators/operator.guard';
import { CallQueryService, RawQuery } from './call-query.service';
import { ContactQuery, CrmQueryService, DealQuery } from './crm-query.service';

@Controller('v1/crm')
@UseGuards(OperatorGuard)
export class CrmController {
  constructor(
    private readonly crm: CrmQueryService,
    private readonly calls: CallQueryService,
  ) {}

  @Get('contacts')
  async contacts(@Query() q: ContactQuery) {
    return { items: await this.crm.contacts(q ?? {}) };
  }

  @Get('contacts/:id')
  contact(@Param('id') id: string) {
    return this.crm.contact(id);
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
