import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { ContactQuery, CrmQueryService, DealQuery } from './crm-query.service';

@Controller('v1/crm')
@UseGuards(AdminAuthGuard)
export class CrmController {
  constructor(private readonly crm: CrmQueryService) {}

  @Get('contacts')
  async contacts(@Query() q: ContactQuery) {
    return { items: await this.crm.contacts(q) };
  }

  @Get('contacts/:id')
  contact(@Param('id') id: string) {
    return this.crm.contact(id);
  }

  @Get('deals')
  async deals(@Query() q: DealQuery) {
    return { items: await this.crm.deals(q) };
  }
}
