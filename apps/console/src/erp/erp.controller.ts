import { Roles } from '../operators/operator';
import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { INVOICE_STATUSES, NotFoundError } from '@switchboard/contracts';
import { ErpReadRepository } from '@switchboard/crm';
import { DataSource } from 'typeorm';
import { OperatorGuard } from '../operators/operator.guard';
import { single, UUID, violation, type RawQuery } from '../query-params';

const PAGE = 50;

const cursorOf = (id: string) => Buffer.from(id).toString('base64url');
function afterOf(q: RawQuery): string | undefined {
  const raw = single(q, 'cursor');
  if (raw === undefined) return undefined;
  const id = Buffer.from(raw, 'base64url').toString('utf8');
  if (!UUID.test(id)) throw violation('cursor', 'cursor', 'cursor must be a nextCursor from a previous page');
  return id;
}

function uuidParam(q: RawQuery, field: string): string | undefined {
  const v = single(q, field);
  if (v !== undefined && !UUID.test(v)) throw violation(field, 'isUuid', `${field} must be a UUID`);
  return v;
}

/** Products (with prices and stock per warehouse) and invoices of the ERPs, for operators. */
@Controller('v1/crm')
@UseGuards(OperatorGuard)
@Roles('admin', 'supervisor', 'auditor')
export class ErpController {
  constructor(
    private readonly ds: DataSource,
    private readonly read: ErpReadRepository,
  ) {}

  @Get('products')
  async products(@Query() q: RawQuery = {}) {
    const items = await this.read.products(this.ds.manager, {
      sku: single(q, 'sku'),
      externalId: single(q, 'externalId'),
      q: single(q, 'q'),
      after: afterOf(q),
      limit: PAGE,
    });
    const last = items[PAGE - 1] as { id: string } | undefined;
    return { items, nextCursor: last ? cursorOf(last.id) : null };
  }

  @Get('products/:id')
  async product(@Param('id') id: string) {
    const p = UUID.test(id) ? await this.read.product(this.ds.manager, id) : null;
    if (!p) throw new NotFoundError(`No product ${id}.`);
    return p;
  }

  @Get('invoices')
  async invoices(@Query() q: RawQuery = {}) {
    const status = single(q, 'status');
    if (status !== undefined && !(INVOICE_STATUSES as readonly string[]).includes(status)) {
      throw violation('status', 'isIn', `status must be one of ${INVOICE_STATUSES.join(', ')}`);
    }
    return {
      items: await this.read.invoices(this.ds.manager, {
        dealId: uuidParam(q, 'dealId'),
        contactId: uuidParam(q, 'contactId'),
        status,
        limit: 200,
      }),
    };
  }

  /** The deal's invoices (the deal list itself stays as it is). */
  @Get('deals/:id/invoices')
  async dealInvoices(@Param('id') id: string) {
    if (!UUID.test(id)) throw new NotFoundError(`No deal ${id}.`);
    return { items: await this.read.invoices(this.ds.manager, { dealId: id, limit: 500 }) };
  }
}
