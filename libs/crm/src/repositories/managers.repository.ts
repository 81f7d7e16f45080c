import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AssignmentRule, ManagerProfile, WorkingHours } from '../rules/assignment';
import { returnedRows } from './rows';
import { preparedQuery } from './prepared-query';

export interface ManagerRow extends ManagerProfile {
  name: string;
  email: string | null;
  extension: string | null;
  createdAt: Date;
}

export type ManagerInput = Partial<Omit<ManagerRow, 'id' | 'createdAt'>>;

/** Deal statuses that no longer need a manager's attention (they do not count toward capacity). */
export const CLOSED_DEAL_STATUSES = ['completed', 'cancelled', 'refunded', 'failed', 'delivered'];

/** One column map: adding a manager field touches this list, the entity and the migration. */
const COLUMNS: Array<[keyof ManagerInput, string, string]> = [
  ['name', 'name', 'text'],
  ['email', 'email', 'text'],
  ['extension', 'extension', 'text'],
  ['active', 'active', 'boolean'],
  ['capacity', 'capacity', 'int'],
  ['workingHours', 'working_hours', 'jsonb'],
  ['timeZone', 'time_zone', 'text'],
  ['regions', 'regions', 'text[]'],
  ['sources', 'sources', 'text[]'],
  ['productGroups', 'product_groups', 'text[]'],
];

const SELECT = `SELECT id, name, email, extension, active, capacity, working_hours, time_zone, regions, sources,
                       product_groups, created_at FROM managers`;

interface Row {
  id: string;
  name: string;
  email: string | null;
  extension: string | null;
  active: boolean;
  capacity: number | null;
  working_hours: WorkingHours | null;
  time_zone: string;
  regions: string[];
  sources: string[];
  product_groups: string[];
  created_at: Date;
}

const toManager = (r: Row): ManagerRow => ({
  id: r.id,
  name: r.name,
  email: r.email,
  extension: r.extension,
  active: r.active,
  capacity: r.capacity,
  workingHours: r.working_hours,
  timeZone: r.time_zone,
  regions: r.regions,
  sources: r.sources,
  productGroups: r.product_groups,
  createdAt: r.created_at,
});

const param = (key: keyof ManagerInput, v: unknown) =>
  key === 'workingHours' && v != null ? JSON.stringify(v) : v;

/** Managers and the ordered assignment rules: all their SQL. */
@Injectable()
export class ManagersRepository {
  async create(em: EntityManager, m: ManagerInput & { name: string }): Promise<ManagerRow> {
    const cols = COLUMNS.filter(([k]) => m[k] !== undefined);
    const rows: Row[] = await em.query(
      `INSERT INTO managers (${cols.map((c) => c[1]).join(', ')})
       VALUES (${cols.map((c, i) => `$${i + 1}::${c[2]}`).join(', ')})
       RETURNING id, name, email, extension, active, capacity, working_hours, time_zone, regions, sources,
                 product_groups, created_at`,
      cols.map(([k]) => param(k, m[k])),
    );
    return toManager(rows[0]);
  }

  async update(em: EntityManager, id: string, m: ManagerInput): Promise<ManagerRow | null> {
    const cols = COLUMNS.filter(([k]) => m[k] !== undefined);
    if (cols.length === 0) return this.get(em, id);
    const rows: Row[] = returnedRows(
      await em.query(
        `UPDATE managers SET ${cols.map((c, i) => `${c[1]} = $${i + 2}::${c[2]}`).join(', ')} WHERE id = $1
       RETURNING id, name, email, extension, active, capacity, working_hours, time_zone, regions, sources,
                 product_groups, created_at`,
        [id, ...cols.map(([k]) => param(k, m[k]))],
      ),
    );
    return rows[0] ? toManager(rows[0]) : null;
  }

  async get(em: EntityManager, id: string): Promise<ManagerRow | null> {
    const rows: Row[] = await em.query(`${SELECT} WHERE id = $1`, [id]);
    return rows[0] ? toManager(rows[0]) : null;
  }

  /** Every manager in round-robin order (created_at, id). */
  async list(em: EntityManager): Promise<ManagerRow[]> {
    const rows: Row[] = await em.query(`${SELECT} ORDER BY created_at, id`);
    return rows.map(toManager);
  }

  /** Open items per manager: open leads (new, in_progress) plus deals not closed. */
  async loads(em: EntityManager): Promise<Map<string, number>> {
    const rows: Array<{ id: string; n: string }> = await preparedQuery(
      em,
      `SELECT id, sum(n)::bigint AS n FROM (
         SELECT responsible_manager_id AS id, count(*) AS n FROM leads
          WHERE status IN ('new', 'in_progress') AND responsible_manager_id IS NOT NULL GROUP BY 1
         UNION ALL
         SELECT responsible_manager_id, count(*) FROM deals
          WHERE NOT test AND status <> ALL($1::text[]) AND responsible_manager_id IS NOT NULL GROUP BY 1) x
        GROUP BY id`,
      [CLOSED_DEAL_STATUSES],
    );
    return new Map(rows.map((r) => [r.id, Number(r.n)]));
  }

  /** The next round-robin turn (one per card assigned): shared with the set-based projectors. */
  async nextTurn(em: EntityManager): Promise<number> {
    const rows: Array<{ v: string }> = await em.query(`SELECT nextval('manager_assignment_seq') AS v`);
    return Number(rows[0].v);
  }

  /** `n` round-robin turns at once, ascending (a batch assigning n cards in order). */
  async nextTurns(em: EntityManager, n: number): Promise<number[]> {
    if (n <= 0) return [];
    const rows: Array<{ v: string }> = await em.query(
      `SELECT nextval('manager_assignment_seq') AS v FROM generate_series(1, $1::int)`,
      [n],
    );
    return rows.map((r) => Number(r.v)).sort((a, b) => a - b);
  }

  async rules(em: EntityManager): Promise<AssignmentRule[]> {
    const rows: Array<{
      name: string;
      match: AssignmentRule['match'];
      strategy: AssignmentRule['strategy'];
      manager_ids: string[];
    }> = await em.query(`SELECT name, match, strategy, manager_ids FROM assignment_rules ORDER BY position`);
    return rows.map((r) => ({
      name: r.name,
      match: r.match,
      strategy: r.strategy,
      managerIds: r.manager_ids,
    }));
  }

  /** Replaces the whole ordered rule set (the caller runs it in a transaction). */
  async replaceRules(em: EntityManager, rules: AssignmentRule[]): Promise<void> {
    await em.query(`DELETE FROM assignment_rules`);
    if (rules.length === 0) return;
    await em.query(
      `INSERT INTO assignment_rules (position, name, match, strategy, manager_ids)
       SELECT p, n, m::jsonb, s, ARRAY(SELECT jsonb_array_elements_text(ids::jsonb))::uuid[]
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(p, n, m, s, ids)`,
      [
        rules.map((_, i) => i),
        rules.map((r) => r.name),
        rules.map((r) => JSON.stringify(r.match ?? {})),
        rules.map((r) => r.strategy),
        rules.map((r) => JSON.stringify(r.managerIds ?? [])),
      ],
    );
  }
}
