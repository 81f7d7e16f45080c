// The fuzz summary: endpoint | requests | 2xx | 4xx | >=500 | resets (+ closed/other), and the findings.

const COLUMNS = [
  ['requests', 'requests'],
  ['2xx', '2xx'],
  ['4xx', '4xx'],
  ['5xx', '≥500'],
  ['reset', 'resets'],
  ['closed', 'closed¹'],
  ['other', 'other'],
  ['skipped', 'not sent²'],
];

function rows(result) {
  const names = Object.keys(result.endpoints).sort();
  const total = Object.fromEntries(COLUMNS.map(([k]) => [k, 0]));
  const out = names.map((n) => {
    const r = result.endpoints[n];
    for (const [k] of COLUMNS) total[k] += r[k] ?? 0;
    return [n, ...COLUMNS.map(([k]) => String(r[k] ?? 0))];
  });
  out.push(['total', ...COLUMNS.map(([k]) => String(total[k]))]);
  return out;
}

/** A plain-text table for the console. */
export function summaryTable(result) {
  const header = ['endpoint', ...COLUMNS.map(([, h]) => h)];
  const body = rows(result);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

export function markdown(report) {
  const header = ['endpoint', ...COLUMNS.map(([, h]) => h)];
  const lines = [
    `# Fuzz report`,
    '',
    `${report.date}: seed **${report.seed}**, ${report.sent} of ${report.iterations} requests in ${report.durationSeconds} s (concurrency ${report.concurrency}); gateway healthy at the end: ${report.healthy}.`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i ? '---:' : '---')).join('|')}|`,
    ...rows(report).map((r) => `| ${r.join(' | ')} |`),
    '',
    '¹ closed: the request was left incomplete on purpose (declared body never sent); closing without an answer is correct.',
    '',
    `² not sent: Node's HTTP client refused to build the request, so the gateway never saw it: ${
      Object.keys(report.clientRefused ?? {}).length
        ? Object.entries(report.clientRefused)
            .map(([why, r]) => `${why} ×${r.count} (e.g. ${r.examples.join('; ')})`)
            .join(', ')
        : 'none'
    }.`,
    '',
    `By shape: ${Object.entries(report.shapes)
      .map(([k, v]) => `${k} ${v.requests}`)
      .join(', ')}.`,
    '',
    `Statuses: ${Object.entries(report.statuses)
      .map(([k, v]) => `${k}×${v}`)
      .join(', ')}.`,
    '',
    `Problem codes: ${Object.entries(report.codes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}×${v}`)
      .join(', ')}.`,
    '',
  ];
  if (report.crm) {
    lines.push(
      `CRM row counts before ${JSON.stringify(report.crm.before.crm)}, after ${JSON.stringify(report.crm.after.crm)}: ${Object.keys(report.crm.changes).length ? `**changed** ${JSON.stringify(report.crm.changes)}` : 'unchanged'}. Events the gateway published: ${report.crm.acceptedDelta}. Processes alive: ${JSON.stringify(report.crm.alive)}.`,
      '',
    );
  }
  lines.push(`## Findings: ${report.findingTotal ? JSON.stringify(report.findingCounts) : 'none'}`, '');
  for (const f of report.findings) {
    lines.push(
      `### ${f.kind}${f.index !== undefined ? ` — case ${f.index}` : ''}`,
      '',
      '```json',
      JSON.stringify(f, null, 2),
      '```',
      '',
    );
  }
  return lines.join('\n');
}
