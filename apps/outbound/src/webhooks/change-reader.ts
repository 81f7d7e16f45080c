import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { CrmChangeRow, CrmChangesRepository } from '@switchboard/crm';
import { ChangeToFanOut, OutboundDeliveries, sqlFromManager } from '@switchboard/peer-auth';
import { DataSource } from 'typeorm';
import { ChangeCursor } from './change-cursor';
import { CLOCK, Clock } from './clock';

/** How many sequence numbers past its cursor the reader looks at when it stops at a gap. */
const LOOK_AHEAD = 50_000;

/** This reader's row in crm_change_cursors. */
export const CURSOR_CONSUMER = 'webhooks';

/**
 * The Standard Webhooks body of a change: `type`, `timestamp` (when it happened) and `data` (the change's
 * payload). Every endpoint gets the same bytes; they are stored with the delivery so a retry sends them again.
 */
export function webhookBody(c: CrmChangeRow): string {
  return JSON.stringify({ type: c.type, timestamp: c.occurredAt.toISOString(), data: c.payload });
}

/** A later change of the same type, aggregate and deal replaces a pending earlier one. */
export const supersedeKey = (c: CrmChangeRow): string => `${c.type}|${c.aggregateKey}|${c.dealId ?? ''}`;

/**
 * Reads the CRM outbox after its cursor and fans each change out to the endpoints subscribed to its type, in one
 * transaction with the cursor. The cursor row is locked with SKIP LOCKED: one replica reads at a time, the others
 * carry on sending.
 */
@Injectable()
export class ChangeReader {
  private readonly cursor: ChangeCursor;
  private readonly batch = 1000;
  /** The cursor the reader last looked ahead from (see readOnce). */
  private lookedAheadFrom: string | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly changes: CrmChangesRepository,
    private readonly deliveries: OutboundDeliveries,
    @Inject(CLOCK) private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.cursor = new ChangeCursor(config.outbound.gapWaitMs);
  }

  async init(): Promise<void> {
    await this.ds.query(`INSERT INTO crm_change_cursors (consumer) VALUES ($1) ON CONFLICT DO NOTHING`, [
      CURSOR_CONSUMER,
    ]);
  }

  /** One step; returns how many changes it read (0: nothing new, a gap, or another replica is reading). */
  async readOnce(): Promise<number> {
    return this.ds.transaction(async (em) => {
      const locked: Array<{ seq: string }> = await em.query(
        `SELECT seq FROM crm_change_cursors WHERE consumer = $1 FOR UPDATE SKIP LOCKED`,
        [CURSOR_CONSUMER],
      );
      const [row] = locked;
      if (!row) return 0;
      const rows = await this.changes.after(em, String(row.seq), this.batch);
      if (rows.length === 0) return 0;
      const now = this.clock.now();
      const { take, cursor } = this.cursor.advance(
        String(row.seq),
        rows.map((r) => r.seq),
        Date.now(),
      );
      if (take < rows.length && this.lookedAheadFrom !== cursor) {
        // Stopped at a gap still young: start the clocks of the gaps further on too (sequence numbers only, on
        // the primary key), so a backlog's gaps are waited for together rather than one read at a time. Once per
        // stop, not on every poll while the gap waits.
        this.cursor.notice(cursor, await this.changes.seqsAfter(em, cursor, LOOK_AHEAD), Date.now());
        this.lookedAheadFrom = cursor;
      }
      if (take === 0) return 0;
      const taken = rows.slice(0, take);
      const fanOut: ChangeToFanOut[] = taken.map((c) => ({
        seq: c.seq,
        type: c.type,
        aggregateKey: c.aggregateKey,
        supersedeKey: supersedeKey(c),
        body: webhookBody(c),
      }));
      await this.deliveries.fanOut(sqlFromManager(em), fanOut, now);
      await em.query(`UPDATE crm_change_cursors SET seq = $2, updated_at = now() WHERE consumer = $1`, [
        CURSOR_CONSUMER,
        cursor,
      ]);
      return take;
    });
  }
}
