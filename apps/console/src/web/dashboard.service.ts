import { Injectable } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { DataSource } from 'typeorm';
import { deadLetterFacts, silentPeerFacts } from '../alerts/alert-facts';
import type { Alert } from '../alerts/alert-rules';
import { AlertStore } from '../alerts/alert-store';

/** Minutes the dashboard's throughput table covers. */
export const DASHBOARD_MINUTES = 20;
/** The broker is asked at most this often for dead-letter depths (a dashboard left open refreshes often). */
const DEPTH_CACHE_MS = 5_000;

export interface MinuteRow {
  minute: Date;
  accepted: number;
  refused: number;
  processed: number;
}

export interface Dashboard {
  minutes: MinuteRow[];
  /** The busiest minute, to scale the bars. */
  peak: number;
  deadLetters: Array<{ connector: string; depth: number }> | null;
  deadLetterError: string | null;
  alerts: Alert[];
  silentPeers: Array<{ peerId: string; createdAt: Date }>;
  /** The alert rule's window: a peer with no accepted call for this long is silent. */
  silentHours: number;
}

/*
 * Accepted and refused: the gateway's inbound calls in the access log (console calls are left out), on
 * the primary key (started_at, id) within the window's partitions. Processed: what the connectors finished
 * (processed_events, on processed_events_processed_at). Every minute of the window has a row, zero or not.
 */
const THROUGHPUT_SQL = `
  WITH minutes AS (
    SELECT generate_series(date_trunc('minute', now()) - make_interval(mins => $1 - 1),
                           date_trunc('minute', now()), interval '1 minute') AS minute
  ), calls AS (
    SELECT date_trunc('minute', started_at) AS minute,
           count(*) FILTER (WHERE result = 'accepted')::int AS accepted,
           count(*) FILTER (WHERE result <> 'accepted')::int AS refused
      FROM access_log
     WHERE started_at >= date_trunc('minute', now()) - make_interval(mins => $1 - 1)
       AND direction = 'inbound' AND service NOT LIKE 'console %'
     GROUP BY 1
  ), done AS (
    SELECT date_trunc('minute', processed_at) AS minute, count(*)::int AS processed
      FROM processed_events
     WHERE processed_at >= date_trunc('minute', now()) - make_interval(mins => $1 - 1)
     GROUP BY 1
  )
  SELECT m.minute, COALESCE(c.accepted, 0) AS accepted, COALESCE(c.refused, 0) AS refused,
         COALESCE(d.processed, 0) AS processed
    FROM minutes m LEFT JOIN calls c USING (minute) LEFT JOIN done d USING (minute)
   ORDER BY m.minute DESC`;

/** What flows, what failed, what is wrong now: the figures of the console's first page. */
@Injectable()
export class DashboardService {
  private depths: { at: number; value: Array<{ connector: string; depth: number }> } | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly config: AppConfig,
  ) {}

  async dashboard(): Promise<Dashboard> {
    const q = (sql: string, params?: unknown[]) => this.ds.query(sql, params);
    const [minutes, depth, alerts, silent] = await Promise.all([
      this.ds.query<MinuteRow[]>(THROUGHPUT_SQL, [DASHBOARD_MINUTES]),
      this.deadLetterDepths().then(
        (v) => ({ value: v, error: null }),
        (err: Error) => ({ value: null, error: err.message }),
      ),
      AlertStore.firing(q),
      // alerts.peerSilentHours 0 switches the rule off: then nobody is "silent".
      this.config.alerts.peerSilentHours > 0 ? silentPeerFacts(q, new Date(), this.config.alerts) : [],
    ]);
    const peak = Math.max(1, ...minutes.map((m) => Math.max(m.accepted + m.refused, m.processed)));
    return {
      minutes,
      peak,
      deadLetters: depth.value,
      deadLetterError: depth.error && 'The broker could not be asked for dead-letter depths.',
      alerts,
      // The facts cover every active peer old enough to judge; silent is none accepted within the window.
      silentPeers: silent
        .filter((s) => s.lastAcceptedAt === null)
        .map((s) => ({ peerId: s.peerId, createdAt: s.createdAt })),
      silentHours: this.config.alerts.peerSilentHours,
    };
  }

  private async deadLetterDepths(): Promise<Array<{ connector: string; depth: number }>> {
    if (this.depths && Date.now() - this.depths.at < DEPTH_CACHE_MS) return this.depths.value;
    const facts = await deadLetterFacts(this.config.amqp.url, this.config.amqp.namespace, 2000);
    const value = facts.map((f) => ({ connector: f.connector, depth: f.depth }));
    this.depths = { at: Date.now(), value };
    return value;
  }
}
