import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ConflictError, NotFoundError } from '@switchboard/contracts';
import { TaskKind, TasksRepository } from '@switchboard/crm';
import { DataSource } from 'typeorm';
import { OperatorGuard } from '../operators/operator.guard';
import { CurrentOperator, OperatorPrincipal, Roles, rowScope } from '../operators/operator';
import { instant, limitOf, oneOf, RawQuery, single, uuid, violation } from '../query-params';
import { BodyReader } from './body';
import { CLOCK, Clock } from './clock';

const KINDS: TaskKind[] = ['call_back', 'call_lead', 'follow_up'];

/**
 * Tasks: first-contact, call-back (missed calls and callback requests share the table) and follow-ups. PATCH
 * assigns, reschedules, completes with a result and, with `next`, creates the follow-up in the same step.
 */
@Controller('v1/crm/tasks')
@UseGuards(OperatorGuard)
@Roles('admin', 'supervisor', 'manager', 'auditor')
export class TasksController {
  constructor(
    private readonly ds: DataSource,
    private readonly tasks: TasksRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** `?overdue=true` lists open tasks due before now (or before `at`). */
  @Get()
  async list(@Query() q: RawQuery, @CurrentOperator() op: OperatorPrincipal) {
    const scope = rowScope(op);
    const asked = uuid(q ?? {}, 'managerId');
    if (scope && asked && asked !== scope) return { items: [] };
    const overdue = oneOf(q ?? {}, 'overdue', ['true', 'false'] as const) === 'true';
    const at = instant(q ?? {}, 'at');
    if (at && !overdue) throw violation('at', 'requires', 'at is used with overdue=true');
    return {
      items: await this.tasks.list(this.ds.manager, {
        status: oneOf(q ?? {}, 'status', ['open', 'done', 'cancelled'] as const),
        // A manager operator sees only its own tasks: asking for another manager's finds nothing.
        managerId: scope ?? asked,
        leadId: uuid(q ?? {}, 'leadId'),
        overdueAt: overdue ? (at ? new Date(at.ms) : this.clock.now()) : undefined,
        limit: limitOf(single(q ?? {}, 'limit'), 100, 500),
      }),
    };
  }

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @CurrentOperator() op: OperatorPrincipal) {
    const b = new BodyReader(body);
    const kind = b.string('kind', { required: true, max: 20 });
    if (kind && !KINDS.includes(kind as TaskKind))
      b.fail('kind', 'isIn', `kind must be one of ${KINDS.join(', ')}`);
    const task = {
      kind: kind as TaskKind,
      title: b.string('title', { required: true, max: 500 })!,
      dueAt: b.instant('dueAt', { required: true })!,
      // A manager operator's new task is its own.
      responsibleManagerId: rowScope(op) ?? b.uuid('managerId') ?? null,
      leadId: b.uuid('leadId') ?? null,
      contactId: b.uuid('contactId') ?? null,
      dealId: b.uuid('dealId') ?? null,
    };
    b.done();
    return this.ds.transaction(async (em) => {
      await this.mustExist(em, task);
      return this.tasks.create(em, task);
    });
  }

  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: unknown, @CurrentOperator() op: OperatorPrincipal) {
    const scope = rowScope(op);
    const b = new BodyReader(body);
    const managerId = b.has('managerId')
      ? b.body.managerId === null
        ? null
        : b.uuid('managerId')
      : undefined;
    const dueAt = b.instant('dueAt');
    const title = b.string('title', { max: 500 });
    const complete = b.has('result') ? b.string('result', { required: true, max: 2000 }) : undefined;
    const next = b.has('next') ? new BodyReader(b.body.next) : undefined;
    const nextTask = next && {
      title: next.string('title', { required: true, max: 500 })!,
      dueAt: next.instant('dueAt', { required: true })!,
    };
    if (next)
      b.errors.push(...next.errors.map((e) => ({ ...e, field: `next.${e.field}`.replace(/\.$/, '') })));
    if (next && complete === undefined)
      b.fail('next', 'requires', 'next is created when completing: give result too');
    b.done();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
      throw new NotFoundError(`no task ${id}`);
    return this.ds.transaction(async (em) => {
      const current = await this.tasks.get(em, id);
      if (!current || (scope && current.responsibleManagerId !== scope))
        throw new NotFoundError(`no task ${id}`);
      if (scope && managerId !== undefined && managerId !== scope)
        throw violation('managerId', 'isOwn', 'a manager may not hand its task to another manager');
      if (current.status !== 'open') throw new ConflictError(`task ${id} is ${current.status}`);
      if (managerId) await this.mustExist(em, { responsibleManagerId: managerId });
      let task = await this.tasks.update(em, id, { responsibleManagerId: managerId, dueAt, title });
      if (!task) throw new ConflictError(`task ${id} is no longer open`);
      let created = null;
      if (complete !== undefined) {
        task = await this.tasks.complete(em, id, complete, this.clock.now());
        if (!task) throw new ConflictError(`task ${id} is no longer open`);
        if (nextTask)
          created = await this.tasks.create(em, {
            kind: 'follow_up',
            ...nextTask,
            responsibleManagerId: task.responsibleManagerId,
            leadId: task.leadId,
            contactId: task.contactId,
            dealId: task.dealId,
          });
      }
      return created ? { ...task, next: created } : task;
    });
  }

  /** A reference to nothing is a 400 on the field, not a foreign-key 500. */
  private async mustExist(
    em: DataSource['manager'],
    t: {
      responsibleManagerId?: string | null;
      leadId?: string | null;
      contactId?: string | null;
      dealId?: string | null;
    },
  ): Promise<void> {
    const checks: Array<[string, string, string | null | undefined]> = [
      ['managerId', 'managers', t.responsibleManagerId],
      ['leadId', 'leads', t.leadId],
      ['contactId', 'contacts', t.contactId],
      ['dealId', 'deals', t.dealId],
    ];
    for (const [field, table, value] of checks) {
      if (!value) continue;
      const rows: unknown[] = await em.query(`SELECT 1 FROM ${table} WHERE id = $1`, [value]);
      if (!rows.length) throw violation(field, 'exists', `no ${table.slice(0, -1)} ${value}`);
    }
  }
}
