import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { NotificationsDb, readableRun } from '@switchboard/notifications';

/** This reader's row in crm_change_cursors. */
export const ORDER_STATUS_CURSOR = 'order-status-messages';
/** A gap in crm_changes.seq younger than this is waited for (see readableRun). */
const GAP_WAIT_SECONDS = 10;
const BATCH = 200;

interface ChangeRow {
  seq: string;
  type: string;
  deal_id: string | null;
  payload: Record<string, unknown>;
  ageSeconds: number;
  phone: string | null;
  order_number: string | null;
}

/** What a status change says its new status is (producers write `status`; `to` is accepted too). */
export function newStatusOf(payload: Record<string, unknown>): string | null {
  const v = payload.status ?? payload.to ?? payload.newStatus;
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * Order-status messages (issue 16.5): reads the CRM outbox (`crm.deal.status_changed`) with its own cursor and
 * queues one message per change whose new status has a template. The queued row (unique on the change's seq) and
 * the cursor move in one transaction: a change is queued exactly once however often this runs or restarts.
 */
@Injectable()
export class OrderStatusMessages {
  private readonly logger = new Logger('OrderStatusMessages');

  constructor(
    private readonly db: NotificationsDb,
    private readonly config: AppConfig,
  ) {}

  /** One batch; returns how many messages it queued. */
  async runOnce(): Promise<number> {
    const cfg = this.config.notifications;
    if (!cfg.orderStatus.enabled) return 0;
    return this.db.tx(async (sql) => {
      await sql.query(
        `INSERT INTO crm_change_cursors (consumer, seq) VALUES ($1, 0) ON CONFLICT DO NOTHING`,
        [ORDER_STATUS_CURSOR],
      );
      const [cursor] = await sql.query<{ seq: string }>(
        `SELECT seq::text FROM crm_change_cursors WHERE consumer = $1 FOR UPDATE`,
        [ORDER_STATUS_CURSOR],
      );
      const rows = await sql.query<ChangeRow>(
        `SELECT c.seq::text, c.type, c.deal_id, c.payload, extract(epoch FROM now() - c.created_at)::float8 AS "ageSeconds",
                coalesce(c.payload->>'phone', ct.phones[1]) AS phone,
                coalesce(d.external_id, c.payload->>'externalId') AS order_number
           FROM crm_changes c
           LEFT JOIN deals d ON d.id = c.deal_id
           LEFT JOIN contacts ct ON ct.id = coalesce(c.contact_id, d.contact_id)
          WHERE c.seq > $1 ORDER BY c.seq LIMIT $2`,
        [cursor.seq, BATCH],
      );
      const run = readableRun(rows, cursor.seq, GAP_WAIT_SECONDS);
      let queued = 0;
      for (const change of run) {
        if (change.type !== 'crm.deal.status_changed') continue;
        // A status older than the give-up time (a first start over old history) is news to nobody.
        if (change.ageSeconds > cfg.orderStatus.giveUpHours * 3600) continue;
        const status = newStatusOf(change.payload);
        const template = status ? cfg.orderStatus.templates[status] : undefined;
        if (!status || !template) continue;
        if (!change.phone) {
          this.logger.warn(`change ${change.seq}: deal ${change.deal_id ?? '?'} has no phone; no message`);
          continue;
        }
        const order = change.order_number ?? '';
        const inserted = await sql.query(
          `INSERT INTO message_deliveries (id, kind, change_seq, deal_id, phone, template, language, params, sms_text,
                                           state, fallback_at, give_up_at)
           VALUES ($1, 'order_status', $2, $3, $4, $5, $6, $7, $8, 'pending',
                   now() + make_interval(secs => $9), now() + make_interval(secs => $10))
           ON CONFLICT (change_seq) DO NOTHING RETURNING id`,
          [
            randomUUID(),
            change.seq,
            change.deal_id,
            change.phone,
            template.whatsappTemplate,
            template.language,
            JSON.stringify([order, status]),
            template.smsText.replaceAll('{order}', order).replaceAll('{status}', status),
            cfg.whatsappFallbackSeconds,
            cfg.orderStatus.giveUpHours * 3600,
          ],
        );
        queued += inserted.length;
      }
      if (run.length)
        await sql.query(`UPDATE crm_change_cursors SET seq = $2, updated_at = now() WHERE consumer = $1`, [
          ORDER_STATUS_CURSOR,
          run[run.length - 1].seq,
        ]);
      return queued;
    });
  }
}
