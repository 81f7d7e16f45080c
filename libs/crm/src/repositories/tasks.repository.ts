import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TaskKind, TaskStatus } from '../entities';
import { returnedRows } from './rows';
import { preparedQuery } from './prepared-query';

export interface TaskRow {
  id: string;
  kind: TaskKind;
  title: string;
  status: TaskStatus;
  dueAt: Date | null;
  responsibleManagerId: string | null;
  contactId: string | null;
  leadId: string | null;
  dealId: string | null;
  phone: string | null;
  result: string | null;
  createdAt: Date;
  closedAt: Date | null;
}

export interface NewTask {
  kind: TaskKind;
  title: string;
  dueAt: Date | null;
  responsibleManagerId?: string | null;
  contactId?: string | null;
  leadId?: string | null;
  dealId?: string | null;
  phone?: string | null;
}

export interface TaskFilter {
  status?: TaskStatus;
  managerId?: string;
  leadId?: string;
  /** Open tasks whose due time is before this moment (the injected clock's now). */
  overdueAt?: Date;
  limit?: number;
}

const RETURNING = `id, kind, title, status, due_at, responsible_manager_id, contact_id, lead_id, deal_id, phone,
                   result, created_at, closed_at`;

type Row = Record<string, unknown>;
const toTask = (r: Row): TaskRow => ({
  id: r.id as string,
  kind: r.kind as TaskKind,
  title: r.title as string,
  status: r.status as TaskStatus,
  dueAt: r.due_at as Date | null,
  responsibleManagerId: r.responsible_manager_id as string | null,
  contactId: r.contact_id as string | null,
  leadId: r.lead_id as string | null,
  dealId: r.deal_id as string | null,
  phone: r.phone as string | null,
  result: r.result as string | null,
  createdAt: r.created_at as Date,
  closedAt: r.closed_at as Date | null,
});

/** Tasks (first-contact, call-back, follow-up): all their SQL outside the set-based call projector. */
@Injectable()
export class TasksRepository {
  async create(em: EntityManager, t: NewTask): Promise<TaskRow> {
    const rows: Row[] = await em.query(
      `INSERT INTO tasks (kind, title, due_at, responsible_manager_id, contact_id, lead_id, deal_id, phone)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${RETURNING}`,
      [
        t.kind,
        t.title,
        t.dueAt,
        t.responsibleManagerId ?? null,
        t.contactId ?? null,
        t.leadId ?? null,
        t.dealId ?? null,
        t.phone ?? null,
      ],
    );
    return toTask(rows[0]);
  }

  /**
   * Many tasks in one statement, in the given order. A call-back for a phone that has an open one already adds
   * nothing (the table keeps at most one open call-back per phone).
   */
  async createMany(em: EntityManager, tasks: NewTask[]): Promise<void> {
    if (tasks.length === 0) return;
    await preparedQuery(
      em,
      `INSERT INTO tasks (kind, title, due_at, responsible_manager_id, contact_id, lead_id, deal_id, phone)
       SELECT kind, title, due_at, manager, contact, lead, deal, phone
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::uuid[], $5::uuid[], $6::uuid[], $7::uuid[],
                     $8::text[]) WITH ORDINALITY AS x(kind, title, due_at, manager, contact, lead, deal, phone, i)
        ORDER BY i
       ON CONFLICT (phone) WHERE kind = 'call_back' AND status = 'open' DO NOTHING`,
      [
        tasks.map((t) => t.kind),
        tasks.map((t) => t.title),
        tasks.map((t) => t.dueAt),
        tasks.map((t) => t.responsibleManagerId ?? null),
        tasks.map((t) => t.contactId ?? null),
        tasks.map((t) => t.leadId ?? null),
        tasks.map((t) => t.dealId ?? null),
        tasks.map((t) => t.phone ?? null),
      ],
    );
  }

  /** Which of these phones have an open call-back task. */
  async openCallbackPhones(em: EntityManager, phones: string[]): Promise<Set<string>> {
    if (phones.length === 0) return new Set();
    const rows: Array<{ phone: string }> = await em.query(
      `SELECT phone FROM tasks WHERE kind = 'call_back' AND status = 'open' AND phone = ANY($1::text[])`,
      [phones],
    );
    return new Set(rows.map((r) => r.phone));
  }

  async get(em: EntityManager, id: string): Promise<TaskRow | null> {
    const rows: Row[] = await em.query(`SELECT ${RETURNING} FROM tasks WHERE id = $1`, [id]);
    return rows[0] ? toTask(rows[0]) : null;
  }

  async list(em: EntityManager, f: TaskFilter): Promise<TaskRow[]> {
    const rows: Row[] = await em.query(
      `SELECT ${RETURNING} FROM tasks
        WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR responsible_manager_id = $2)
          AND ($3::uuid IS NULL OR lead_id = $3)
          AND ($4::timestamptz IS NULL OR (status = 'open' AND due_at < $4))
        ORDER BY due_at NULLS LAST, created_at, id LIMIT $5`,
      [f.status ?? null, f.managerId ?? null, f.leadId ?? null, f.overdueAt ?? null, f.limit ?? 100],
    );
    return rows.map(toTask);
  }

  /** Assign and/or reschedule an open task; null when there is no such open task. */
  async update(
    em: EntityManager,
    id: string,
    change: { responsibleManagerId?: string | null; dueAt?: Date | null; title?: string },
  ): Promise<TaskRow | null> {
    const rows: Row[] = returnedRows(
      await em.query(
        `UPDATE tasks SET
         responsible_manager_id = CASE WHEN $2 THEN $3::uuid ELSE responsible_manager_id END,
         due_at = CASE WHEN $4 THEN $5::timestamptz ELSE due_at END,
         title = COALESCE($6, title), updated_at = now()
       WHERE id = $1 AND status = 'open' RETURNING ${RETURNING}`,
        [
          id,
          change.responsibleManagerId !== undefined,
          change.responsibleManagerId ?? null,
          change.dueAt !== undefined,
          change.dueAt ?? null,
          change.title ?? null,
        ],
      ),
    );
    return rows[0] ? toTask(rows[0]) : null;
  }

  /** Close an open task with its result; null when it was not open (completed twice: the first wins). */
  async complete(em: EntityManager, id: string, result: string, at: Date): Promise<TaskRow | null> {
    const rows: Row[] = returnedRows(
      await em.query(
        `UPDATE tasks SET status = 'done', result = $2, closed_at = $3, updated_at = now()
        WHERE id = $1 AND status = 'open' RETURNING ${RETURNING}`,
        [id, result, at],
      ),
    );
    return rows[0] ? toTask(rows[0]) : null;
  }

  async countOverdue(em: EntityManager, at: Date): Promise<number> {
    const rows: Array<{ n: string }> = await em.query(
      `SELECT count(*) AS n FROM tasks WHERE status = 'open' AND due_at < $1`,
      [at],
    );
    return Number(rows[0].n);
  }
}
