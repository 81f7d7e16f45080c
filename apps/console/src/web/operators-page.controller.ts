import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { OPERATOR_ROLES, Roles, type OperatorRole } from '../operators/operator';
import { OperatorAccounts } from '../operators/operator-accounts.service';
import { Html, seeOther, WebPages } from './web-page';
import { field, pageOf, WebRequest } from './web-request';
import { PAGE_ROLES, WebViews } from './web-views';

/**
 * Operators (admin only): who may sign in, with which role and whether two-factor is on; create an operator with
 * a one-time password (changed at first sign-in), change a role, disable or enable. The same service as the
 * `/v1/admin/operators` API, so the policy (password rules, manager link for the manager role) is one.
 */
@Controller('console/operators')
@WebPages()
@Roles(...PAGE_ROLES.operators)
export class OperatorsPageController {
  constructor(
    private readonly views: WebViews,
    private readonly accounts: OperatorAccounts,
    private readonly ds: DataSource,
  ) {}

  @Get()
  @Html()
  async show(@Req() req: WebRequest): Promise<string> {
    return this.page(req, null);
  }

  @Post()
  @HttpCode(201)
  @Html()
  async create(@Req() req: WebRequest, @Body() body: unknown): Promise<string> {
    const created = await this.accounts.create({
      email: field(body, 'email'),
      name: field(body, 'name'),
      role: field(body, 'role') as OperatorRole,
      managerId: field(body, 'managerId') || null,
      password: field(body, 'password'),
      mustChangePassword: true,
    });
    return this.page(req, created.email);
  }

  @Post(':id')
  async update(@Param('id') id: string, @Body() body: unknown, @Res() reply: FastifyReply) {
    const role = field(body, 'role');
    const disabled = field(body, 'disabled');
    await this.accounts.update(id, {
      ...(role ? { role: role as OperatorRole } : {}),
      ...(disabled ? { disabled: disabled === 'true' } : {}),
    });
    seeOther(reply, '/console/operators');
  }

  private async page(req: WebRequest, createdEmail: string | null): Promise<string> {
    const [operators, managers] = await Promise.all([
      this.accounts.list(),
      this.ds.query<Array<{ id: string; name: string }>>(
        `SELECT id, name FROM managers WHERE active ORDER BY name, id`,
      ),
    ]);
    const managerName = new Map(managers.map((m) => [m.id, m.name]));
    return this.views.render('pages/operators.njk', pageOf(req), {
      title: 'Operators',
      operators: operators.map((o) => ({
        ...o,
        managerName: o.managerId ? (managerName.get(o.managerId) ?? o.managerId) : null,
      })),
      managers,
      roles: OPERATOR_ROLES,
      createdEmail,
    });
  }
}
