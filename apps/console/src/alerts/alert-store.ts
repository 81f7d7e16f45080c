import type { Query } from './alert-facts';
import type { Alert, AlertCondition } from './alert-rules';

export type NotificationKind = 'firing' | 'resolved';

interface AlertRow {
  id: string;
  rule: string;
  subject: string;
  status: 'firing' | 'resolved';
  summary: string;
  details: Record<string, unknown>;
  fired_at: Date;
  last_seen_at: Date;
  resolved_at: Date | null;
  fired_notified_at: Date | null;
  resolved_notified_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    rule: r.rule,
    subject: r.subject,
    status: r.status,
    summary: r.summary,
    details: r.details,
    firedAt: r.fired_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    resolvedAt: iso(r.resolved_at),
    firedNotifiedAt: iso(r.fired_notified_at),
    resolvedNotifiedAt: iso(r.resolved_notified_at),
  };
}

const COLUMNS = `id, rule, subject, status, summary, details, fired_at, last_seen_at, resolved_at,
  fired_notified_at, resolved_notified_at`;

export interface AlertListFilter {
  status?: 'firing' | 'resolved';
  rule?: string;
  limit: number;
}

/** The `alerts` table. At most one firing alert per (rule, subject): the partial unique index alerts_one_firing. */
export const AlertStore = {
  async firing(q: Query): Promise<Alert[]> {
    const rows = (await q(`SELECT ${COLUMNS} FROM alerts WHERE status = 'firing'`)) as AlertRow[];
    return rows.map(toAlert);
  },

  /** Fires a new alert; when one is already firing for (rule, subject) it is refreshed instead (inserted false). */
  async fire(q: Query, c: AlertCondition): Promise<{ alert: Alert; inserted: boolean }> {
    const [row] = (await q(
      `INSERT INTO alerts (rule, subject, status, summary, details)
       VALUES ($1, $2, 'firing', $3, $4::jsonb)
       ON CONFLICT (rule, subject) WHERE status = 'firing'
       DO UPDATE SET last_seen_at = now(), summary = EXCLUDED.summary, details = EXCLUDED.details
       RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
      [c.rule, c.subject, c.summary, JSON.stringify(c.details)],
    )) as Array<AlertRow & { inserted: boolean }>;
    return { alert: toAlert(row), inserted: row.inserted };
  },

  /** The condition still holds: last_seen_at and the current figures. */
  async touch(q: Query, id: string, c: AlertCondition): Promise<void> {
    await q(
      `UPDATE alerts SET last_seen_at = now(), summary = $2, details = $3::jsonb
        WHERE id = $1 AND status = 'firing'`,
      [id, c.summary, JSON.stringify(c.details)],
    );
  },

  async resolve(q: Query, ids: string[]): Promise<Alert[]> {
    if (!ids.length) return [];
    const rows = (await q(
      `UPDATE alerts SET status = 'resolved', resolved_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'firing'
        RETURNING ${COLUMNS}`,
      [ids],
    )) as AlertRow[];
    return rows.map(toAlert);
  },

  /** Alerts whose current state no sink has been told of yet, oldest first. */
  async pendingNotifications(q: Query, limit = 100): Promise<Alert[]> {
    const rows = (await q(
      `SELECT ${COLUMNS} FROM alerts
        WHERE (status = 'firing' AND fired_notified_at IS NULL)
           OR (status = 'resolved' AND resolved_notified_at IS NULL)
        ORDER BY fired_at, id
        LIMIT $1`,
      [limit],
    )) as AlertRow[];
    return rows.map(toAlert);
  },

  async markNotified(q: Query, id: string, kind: NotificationKind): Promise<void> {
    const column = kind === 'firing' ? 'fired_notified_at' : 'resolved_notified_at';
    await q(`UPDATE alerts SET ${column} = now() WHERE id = $1 AND ${column} IS NULL`, [id]);
  },

  /** Newest first. */
  async list(q: Query, f: AlertListFilter): Promise<Alert[]> {
    const rows = (await q(
      `SELECT ${COLUMNS} FROM alerts
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR rule = $2)
        ORDER BY fired_at DESC, id DESC
        LIMIT $3`,
      [f.status ?? null, f.rule ?? null, f.limit],
    )) as AlertRow[];
    return rows.map(toAlert);
  },
};
