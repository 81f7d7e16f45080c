import { Roles } from '../operators/operator';
import { Body, Controller, Get, HttpCode, Param, Patch, Post, Put, UseGuards } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { ContractViolation, NotFoundError } from '@switchboard/contracts';
import {
  AssignmentRule,
  assignmentRuleProblems,
  isValidTimeZone,
  isValidWorkingHours,
  ManagerInput,
  ManagerRow,
  ManagersRepository,
} from '@switchboard/crm';
import { DataSource } from 'typeorm';
import { OperatorGuard } from '../operators/operator.guard';
import { BodyReader } from './body';

function managerInput(raw: unknown, creating: boolean): ManagerInput {
  const b = new BodyReader(raw);
  const m: ManagerInput = {
    name: b.string('name', { required: creating, max: 200 }),
    email: b.has('email') ? (b.body.email === null ? null : b.string('email', { max: 254 })) : undefined,
    extension: b.has('extension')
      ? b.body.extension === null
        ? null
        : b.string('extension', { max: 40 })
      : undefined,
    active: b.boolean('active'),
    capacity: b.int('capacity', { nullable: true }),
    timeZone: b.string('timeZone', { max: 100 }),
    regions: b.strings('regions'),
    sources: b.strings('sources'),
    productGroups: b.strings('productGroups'),
  };
  if (m.timeZone !== undefined && !isValidTimeZone(m.timeZone))
    b.fail('timeZone', 'isTimeZone', 'timeZone must be an IANA time zone, e.g. Europe/Moscow');
  if (b.has('workingHours')) {
    if (b.body.workingHours === null) m.workingHours = null;
    else if (isValidWorkingHours(b.body.workingHours)) m.workingHours = b.body.workingHours;
    else b.fail('workingHours', 'isWorkingHours', 'workingHours must map mon..sun to "HH:MM-HH:MM" ranges');
  }
  b.done();
  return m;
}

const view = (m: ManagerRow, load: Map<string, number>) => ({ ...m, openItems: load.get(m.id) ?? 0 });

/** Managers (who can take leads, when, how many) and the ordered assignment rules. */
@Controller('v1/admin')
@UseGuards(OperatorGuard)
@Roles('admin', 'supervisor', 'auditor')
export class ManagersController {
  constructor(
    private readonly ds: DataSource,
    private readonly managers: ManagersRepository,
    private readonly config: AppConfig,
  ) {}

  @Post('managers')
  @HttpCode(201)
  async create(@Body() body: unknown) {
    const m = await this.managers.create(
      this.ds.manager,
      managerInput(body, true) as ManagerInput & { name: string },
    );
    return view(m, new Map());
  }

  @Get('managers')
  async list() {
    const load = await this.managers.loads(this.ds.manager);
    return { items: (await this.managers.list(this.ds.manager)).map((m) => view(m, load)) };
  }

  @Patch('managers/:id')
  async update(@Param('id') id: string, @Body() body: unknown) {
    const input = managerInput(body, false);
    const m = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)
      ? await this.managers.update(this.ds.manager, id, input)
      : null;
    if (!m) throw new NotFoundError(`no manager ${id}`);
    return view(m, await this.managers.loads(this.ds.manager));
  }

  @Get('assignment-rules')
  async rules() {
    const stored = await this.managers.rules(this.ds.manager);
    return stored.length
      ? { source: 'stored', items: stored }
      : { source: 'config', items: this.config.crm.leads.assignmentRules };
  }

  /** Replaces the whole ordered list; an empty list falls back to the rules in config. */
  @Put('assignment-rules')
  async replaceRules(@Body() body: unknown) {
    const items = (body as { items?: unknown } | null)?.items;
    const problems = assignmentRuleProblems(items);
    if (problems.length)
      throw new ContractViolation(
        problems.map((message) => ({ field: 'items', rule: 'isAssignmentRule', message })),
      );
    const rules = (items as AssignmentRule[]).map((r) => ({
      name: r.name,
      match: r.match ?? {},
      strategy: r.strategy,
      managerIds: r.managerIds ?? [],
    }));
    const known = new Set((await this.managers.list(this.ds.manager)).map((m) => m.id));
    const unknown = rules.flatMap((r, i) =>
      r.managerIds.filter((id) => !known.has(id)).map((id) => ({ i, id })),
    );
    if (unknown.length)
      throw new ContractViolation(
        unknown.map(({ i, id }) => ({
          field: `items.${i}.managerIds`,
          rule: 'isManager',
          message: `no manager ${id}`,
        })),
      );
    await this.ds.transaction((em) => this.managers.replaceRules(em, rules));
    return this.rules();
  }
}
