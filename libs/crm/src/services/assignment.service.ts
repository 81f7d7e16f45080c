import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** Picks the responsible manager for a new card: round robin over active managers (null when none). */
@Injectable()
export class AssignmentService {
  async next(em: EntityManager): Promise<string | null> {
    const rows: Array<{ id: string }> = await em.query(
      `WITH active AS (SELECT id, row_number() OVER (ORDER BY created_at, id) - 1 AS n,
                              count(*) OVER () AS total FROM managers WHERE active)
       SELECT id FROM active WHERE n = (SELECT nextval('manager_assignment_seq') % max(total) FROM active)`,
    );
    return rows[0]?.id ?? null;
  }
}
