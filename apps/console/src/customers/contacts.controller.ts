import { Body, Controller, Delete, Param, Patch, Put, UseGuards } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { ContactEdit, CustomerAddress, isPercent, normalizeEmail, normalizePhone } from '@switchboard/crm';
import { BodyReader } from '../leads/body';
import { CurrentOperator, OperatorPrincipal, Roles } from '../operators/operator';
import { OperatorGuard } from '../operators/operator.guard';
import { CustomersService } from './customers.service';

const EDIT_FIELDS = ['name', 'phones', 'emails', 'birthday', 'address'];
const ADDRESS_FIELDS: Record<string, number> = {
  country: 2,
  region: 200,
  city: 200,
  postalCode: 20,
  line1: 500,
  line2: 500,
};

function refuseUnknown(b: BodyReader, allowed: string[], prefix = ''): void {
  for (const k of Object.keys(b.body))
    if (!allowed.includes(k))
      b.fail(`${prefix}${k}`, 'whitelistValidation', `property ${k} should not exist`);
}

/** Operators' edits of a contact that go back to the site (crm.contact.updated, crm.contact.discount_changed). */
@Controller('v1/crm/contacts')
@UseGuards(OperatorGuard)
@Roles('admin', 'supervisor', 'manager')
export class ContactsController {
  constructor(
    private readonly customers: CustomersService,
    private readonly config: AppConfig,
  ) {}

  /** Name, phones, emails (replacing the card's), birthday, address; `null` clears name, birthday, address. */
  @Patch(':id')
  edit(@Param('id') id: string, @Body() body: unknown) {
    const b = new BodyReader(body);
    refuseUnknown(b, EDIT_FIELDS);
    const edit: ContactEdit = {};
    if (b.body.name === null) edit.name = null;
    else if (b.has('name')) edit.name = b.string('name', { max: 200 });
    const region = this.config.crm.defaultRegion;
    for (const field of ['phones', 'emails'] as const) {
      const raw = b.strings(field, { max: 10 });
      if (!raw) continue;
      const values: string[] = [];
      raw.forEach((v, i) => {
        const n = field === 'phones' ? normalizePhone(v, region) : normalizeEmail(v);
        if (n) values.push(n);
        else
          b.fail(
            `${field}.${i}`,
            field === 'phones' ? 'isPhone' : 'isEmail',
            `"${v}" is no valid ${field.slice(0, -1)}`,
          );
      });
      edit[field] = values;
    }
    if (b.body.birthday === null) edit.birthday = null;
    else if (b.has('birthday')) {
      const v = b.string('birthday', { max: 10 });
      if (v !== undefined && !isCalendarDate(v))
        b.fail('birthday', 'isDate', 'birthday must be a date YYYY-MM-DD in 1900-2099');
      else edit.birthday = v;
    }
    if (b.body.address === null) edit.address = null;
    else if (b.has('address')) {
      const a = new BodyReader(b.body.address);
      refuseUnknown(a, Object.keys(ADDRESS_FIELDS));
      const address: CustomerAddress = {};
      for (const [k, max] of Object.entries(ADDRESS_FIELDS)) {
        const v = a.string(k, { max });
        if (v !== undefined) address[k as keyof CustomerAddress] = v;
      }
      if (address.country !== undefined && !/^[A-Z]{2}$/.test(address.country))
        a.fail('country', 'isCountry', 'country must be an ISO 3166-1 alpha-2 code such as RU');
      b.errors.push(...a.errors.map((e) => ({ ...e, field: `address.${e.field}`.replace(/\.$/, '') })));
      edit.address = address;
    }
    b.done();
    return this.customers.edit(id, edit);
  }

  /** A manual discount that overrides the loyalty tier, until expiresAt when given. */
  @Put(':id/discount')
  setDiscount(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentOperator() operator: OperatorPrincipal,
  ) {
    const b = new BodyReader(body);
    refuseUnknown(b, ['percent', 'expiresAt']);
    const percent = b.body.percent;
    if (!isPercent(percent))
      b.fail('percent', 'isPercent', 'percent must be a number 0-100 with at most 2 decimals');
    const expiresAt = b.body.expiresAt === null ? null : (b.instant('expiresAt') ?? null);
    if (expiresAt && expiresAt.getTime() <= this.customers.now().getTime())
      b.fail('expiresAt', 'isFuture', 'expiresAt must be in the future');
    b.done();
    return this.customers.setDiscount(id, { percent: percent as number, expiresAt }, operatorName(operator));
  }

  /** Clears the manual discount: the tier's applies again. */
  @Delete(':id/discount')
  clearDiscount(@Param('id') id: string, @CurrentOperator() operator: OperatorPrincipal) {
    return this.customers.setDiscount(id, null, operatorName(operator));
  }
}

const operatorName = (o: OperatorPrincipal | undefined): string => (o ? `operator:${o.id}` : 'operator');

function isCalendarDate(v: string): boolean {
  if (!/^(19|20)\d\d-\d\d-\d\d$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}
