import { Injectable } from '@nestjs/common';
import {
  applyDelivery,
  DUE_STATES,
  type DeliveryChange,
  type DeliveryEvent,
  type DeliveryState,
} from './delivery.rules';
import { NotificationsDb, type Sql } from './notifications.db';

export interface DeliveryRow {
  id: string;
  kind: 'otp' | 'order_status';
  otp_id: string | null;
  change_seq: string | null;
  phone: string;
  template: string;
  language: string;
  params: string[];
  sms_text: string | null;
  sealed_code: string | null;
  state: DeliveryState;
  attempts: number;
  fallback_at: Date | null;
  give_up_at: Date;
  whatsapp_status: string | null;
  /** For codes: whether the code can still be used (active and not expired). */
  otp_live: boolean | null;
}

export type DeliveryKey = { id: string } | { whatsappMessageId: string } | { smsId: string };

const COLUMNS = `d.id, d.kind, d.otp_id, d.change_seq::text, d.phone, d.template, d.language, d.params, d.sms_text,
  d.sealed_code, d.state, d.attempts, d.fallback_at, d.give_up_at, d.whatsapp_status,
  CASE WHEN d.otp_id IS NULL THEN NULL ELSE (o.state = 'active' AND o.expires_at > now()) END AS otp_live`;

/** Lease: a claimed row is not claimed again for this long (a sender that died mid-send is retried after it). */
const LEASE_SECONDS = 30;

function whereOf(key: DeliveryKey): [string, string] {
  if ('id' in key) return ['d.id = $1', key.id];
  if ('whatsappMessageId' in key) return ['d.whatsapp_message_id = $1', key.whatsappMessageId];
  return ['d.sms_id = $1', key.smsId];
}

/** message_deliveries: claiming due work for the sender and applying events (sender results, provider statuses). */
@Injectable()
export class DeliveriesStore {
  constructor(private readonly db: NotificationsDb) {}

  /** Due rows, leased to this caller; SKIP LOCKED lets several senders share the table. */
  async claimDue(limit: number): Promise<DeliveryRow[]> {
    return this.db
      .query<DeliveryRow>(
        `WITH due AS (
         SELECT id FROM message_deliveries
          WHERE state = ANY($1) AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE message_deliveries m SET next_attempt_at = now() + make_interval(secs => $3)
         FROM due WHERE m.id = due.id
       RETURNING m.id`,
        [DUE_STATES, limit, LEASE_SECONDS],
      )
      .then((rows) => (rows.length ? this.load(rows.map((r) => r.id)) : []));
  }

  private load(ids: string[]): Promise<DeliveryRow[]> {
    return this.db.query<DeliveryRow>(
      `SELECT ${COLUMNS} FROM message_deliveries d LEFT JOIN otp_codes o ON o.id = d.otp_id
        WHERE d.id = ANY($1::uuid[]) ORDER BY d.next_attempt_at`,
      [ids],
    );
  }

  /**
   * Applies one event to one delivery under a row lock and stores the change; null when the event changes
   * nothing (unknown message id, stale or repeated status). Returns the new state.
   */
  async apply(
    key: DeliveryKey,
    event: DeliveryEvent,
    policy: { fallbackSeconds: number },
    now = new Date(),
  ): Promise<DeliveryChange | null> {
    return this.db.tx(async (sql) => {
      const [where, value] = whereOf(key);
      const [row] = await sql.query<DeliveryRow>(
        `SELECT ${COLUMNS} FROM message_deliveries d LEFT JOIN otp_codes o ON o.id = d.otp_id WHERE ${where} FOR UPDATE OF d`,
        [value],
      );
      if (!row) return null;
      const change = applyDelivery(
        {
          state: row.state,
          attempts: row.attempts,
          fallbackAt: row.fallback_at,
          giveUpAt: row.give_up_at,
          whatsappStatus: row.whatsapp_status,
        },
        event,
        { now, fallbackSeconds: policy.fallbackSeconds },
      );
      if (change) await write(sql, row.id, change);
      return change;
    });
  }

  /**
   * Housekeeping: what is past its give-up time and still open fails (a code past its expiry is cancelled), and
   * no sealed code outlives it. Returns how many rows changed.
   */
  async sweep(): Promise<number> {
    const rows = await this.db.query(
      `UPDATE message_deliveries
          SET sealed_code = NULL, updated_at = now(),
              state = CASE WHEN state = ANY($1) THEN (CASE WHEN kind = 'otp' THEN 'cancelled' ELSE 'failed' END)
                           ELSE state END,
              last_error = CASE WHEN state = ANY($1) THEN 'GAVE_UP' ELSE last_error END
        WHERE give_up_at <= now() AND (sealed_code IS NOT NULL OR state = ANY($1))
        RETURNING id`,
      [DUE_STATES],
    );
    return rows.length;
  }
}

async function write(sql: Sql, id: string, c: DeliveryChange): Promise<void> {
  await sql.query(
    `UPDATE message_deliveries SET
        state = $2, attempts = $3, next_attempt_at = $4,
        fallback_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE fallback_at END,
        channel = coalesce($7, channel),
        whatsapp_message_id = coalesce($8, whatsapp_message_id),
        whatsapp_status = coalesce($9, whatsapp_status),
        whatsapp_error = CASE WHEN $10::boolean THEN $11 ELSE whatsapp_error END,
        sms_id = coalesce($12, sms_id),
        sms_status = coalesce($13, sms_status),
        sms_error = CASE WHEN $14::boolean THEN $15 ELSE sms_error END,
        last_error = CASE WHEN $16::boolean THEN $17 ELSE last_error END,
        sealed_code = CASE WHEN $18::boolean THEN NULL ELSE sealed_code END,
        updated_at = now()
      WHERE id = $1`,
    [
      id,
      c.state,
      c.attempts,
      c.nextAttemptAt.toISOString(),
      c.fallbackAt !== undefined,
      c.fallbackAt?.toISOString() ?? null,
      c.channel ?? null,
      c.whatsappMessageId ?? null,
      c.whatsappStatus ?? null,
      c.whatsappError !== undefined,
      c.whatsappError ?? null,
      c.smsId ?? null,
      c.smsStatus ?? null,
      c.smsError !== undefined,
      c.smsError ?? null,
      c.lastError !== undefined,
      c.lastError ?? null,
      c.wipeCode,
    ],
  );
}
