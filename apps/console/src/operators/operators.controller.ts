import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ContractViolation } from '@switchboard/contracts';
import { OperatorAccounts } from './operator-accounts.service';
import { OperatorGuard } from './operator.guard';
import { OPERATOR_ROLES, Roles, type OperatorRole } from './operator';
import { viewOf } from './operators.repository';

type Json = Record<string, unknown>;
const obj = (b: unknown): Json => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Json) : {});

/** Operator accounts, for admins (the ADMIN_TOKEN included: that is how the first admin is made). */
@Controller('v1/admin/operators')
@UseGuards(OperatorGuard)
@Roles('admin')
export class OperatorsController {
  constructor(private readonly accounts: OperatorAccounts) {}

  /** `{email, name, role, managerId?, password, mustChangePassword?}` */
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    const b = obj(body);
    return this.accounts.create({
      email: b.email as string,
      name: b.name as string,
      role: b.role as OperatorRole,
      managerId: (b.managerId as string | null | undefined) ?? null,
      password: b.password as string,
      mustChangePassword: b.mustChangePassword === true,
    });
  }

  @Get()
  async list() {
    return { items: await this.accounts.list() };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return viewOf(await this.accounts.get(id));
  }

  /** `{name?, role?, managerId?, disabled?}`; disabling ends the operator's sessions. */
  @Patch(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    const b = obj(body);
    const errors = [];
    if (b.role !== undefined && !OPERATOR_ROLES.includes(b.role as OperatorRole))
      errors.push({
        field: 'role',
        rule: 'isIn',
        message: `role must be one of ${OPERATOR_ROLES.join(', ')}`,
      });
    if (b.disabled !== undefined && typeof b.disabled !== 'boolean')
      errors.push({ field: 'disabled', rule: 'isBoolean', message: 'disabled must be true or false' });
    if (b.name !== undefined && (typeof b.name !== 'string' || !b.name.trim() || b.name.length > 200))
      errors.push({ field: 'name', rule: 'length', message: 'name must be 1-200 characters' });
    if (b.managerId !== undefined && b.managerId !== null && typeof b.managerId !== 'string')
      errors.push({ field: 'managerId', rule: 'isUuid', message: 'managerId must be a uuid or null' });
    if (errors.length) throw new ContractViolation(errors);
    return this.accounts.update(id, {
      name: b.name as string | undefined,
      role: b.role as OperatorRole | undefined,
      managerId: b.managerId as string | null | undefined,
      disabled: b.disabled as boolean | undefined,
    });
  }
}
