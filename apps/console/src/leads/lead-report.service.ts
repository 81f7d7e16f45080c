import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { instant, oneOf, RawQuery, violation } from '../query-params';

const GROUPS = {
  source: 'l.source_channel',
  utmSource: 'l.utm_source',
  utmCampaign: 'l.utm_campaign',
  trackingChannel: 'l.tracking_channel',
  manager: 'l.responsible_manager_id::text',
} as const;
type GroupBy = keyof typeof GROUPS;

/**
 * Leads created in [from, to) per group: how many, qualified (not unqualified/junk), converted, refused by
 * reason, conversion rate (converted / qualified) and the median minutes from creation to first contact.
 */
@Injectable()
export class LeadReportService {
  constructor(private readonly ds: DataSource) {}

  async report(q: RawQuery) {
    const from = instant(q, 'from');
    const to = instant(q, 'to');
    if (!from) throw violation('from', 'isDefined', 'from is required, e.g. 2026-12-01T00:00:00Z');
    if (!to) throw violation('to', 'isDefined', 'to is required, e.g. 2027-01-01T00:00:00Z');
    if (to.ms <= from.ms) throw violation('to', 'isAfter', 'to must be after from');
    const groupBy: GroupBy = oneOf(q, 'groupBy', Object.keys(GROUPS) as GroupBy[]) ?? 'source';
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `WITH l AS (SELECT * FROM leads l WHERE created_at >= $1 AND created_at < $2),
       g AS (
         SELECT ${GROUPS[groupBy]} AS key, count(*)::int AS leads,
                count(*) FILTER (WHERE status NOT IN ('unqualified', 'junk'))::int AS qualified,
                count(*) FILTER (WHERE status = 'converted')::int AS converted,
                count(*) FILTER (WHERE status = 'refused')::int AS refused,
                percentile_cont(0.5) WITHIN GROUP (
                  ORDER BY extract(epoch FROM first_contact_at - created_at) / 60)
                  FILTER (WHERE first_contact_at IS NOT NULL) AS median_minutes
           FROM l GROUP BY 1),
       r AS (
         SELECT key, jsonb_object_agg(reason, n) AS refused_by_reason FROM (
           SELECT ${GROUPS[groupBy]} AS key, refuse_reason AS reason, count(*)::int AS n
             FROM l WHERE status = 'refused' AND refuse_reason IS NOT NULL GROUP BY 1, 2) x GROUP BY key)
       SELECT g.*, COALESCE(r.refused_by_reason, '{}') AS refused_by_reason
         FROM g LEFT JOIN r ON r.key IS NOT DISTINCT FROM g.key ORDER BY g.leads DESC, g.key NULLS LAST`,
      [new Date(from.ms), new Date(to.ms)],
    );
    return {
      from: from.raw,
      to: to.raw,
      groupBy,
      items: rows.map((r) => ({
        key: r.key ?? null,
        leads: r.leads,
        qualified: r.qualified,
        converted: r.converted,
        refused: r.refused,
        refusedByReason: r.refused_by_reason,
        conversionRate: (r.qualified as number)
          ? Number(((r.converted as number) / (r.qualified as number)).toFixed(4))
          : 0,
        medianMinutesToFirstContact:
          r.median_minutes === null ? null : Number(Number(r.median_minutes).toFixed(2)),
      })),
    };
  }
}
