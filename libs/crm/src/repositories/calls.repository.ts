import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

export interface CallSummary {
  id: string;
  direction: string;
  customerPhone: string | null;
  managerId: string | null;
  status: string;
  disposition: string | null;
  startedAt: Date;
  talkSeconds: number | null;
}

/** Reads over call logs for the CRM (the set-based call projector writes them). */
@Injectable()
export class CallsRepository {
  async forLead(em: EntityManager, leadId: string): Promise<CallSummary[]> {
    const rows: Array<Record<string, unknown>> = await em.query(
      `SELECT id, direction, customer_phone, manager_id, status, disposition, started_at, talk_seconds
         FROM call_logs WHERE lead_id = $1 ORDER BY started_at, id`,
      [leadId],
    );
    return rows.map((r) => ({
      id: r.id as string,
      direction: r.direction as string,
      customerPhone: r.customer_phone as string | null,
      managerId: r.manager_id as string | null,
      status: r.status as string,
      disposition: r.disposition as string | null,
      startedAt: r.started_at as Date,
      talkSeconds: r.talk_seconds as number | null,
    }));
  }
}
