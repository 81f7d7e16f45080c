// "No change in the CRM": row counts of the CRM tables, the gateway's accepted-events counter and queue
// depths, compared before and after a fuzz run (after the connectors had time to drain anything published).

export const CRM_TABLES = ['deals', 'contacts', 'leads', 'call_logs', 'call_events', 'tasks'];

/** Row counts per CRM table; `query(sql)` returns rows (pg Client.query(...).rows or TestSystem.sql). */
export async function crmCounts(query) {
  const sql = `SELECT ${CRM_TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`;
  const [row] = await query(sql);
  return Object.fromEntries(CRM_TABLES.map((t) => [t, Number(row[t])]));
}

/** Events the gateway accepted (published) so far, from /metrics on its metrics listener. */
export async function acceptedEvents(gatewayMetricsUrl) {
  const text = await (
    await fetch(`${gatewayMetricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) })
  ).text();
  let n = 0;
  for (const m of text.matchAll(/^switchboard_ingest_total\{([^}]*)\} (\d+(?:\.\d+)?)/gm)) {
    if (/result="accepted"/.test(m[1])) n += Number(m[2]);
  }
  return n;
}

/** Differences between two count snapshots ({} when equal). */
export function countChanges(before, after) {
  const out = {};
  for (const k of Object.keys({ ...before, ...after }))
    if (before[k] !== after[k]) out[k] = `${before[k]} -> ${after[k]}`;
  return out;
}
