import { ContractViolation } from '@switchboard/contracts';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DataSource } from 'typeorm';
import { exportStream } from './access-log-export';
import {
  AccessLogItem,
  AccessLogQueryService,
  parseAccessLogExport,
  parseAccessLogRange,
  parseAccessLogSearch,
  parseAuditLimit,
} from './access-log-query.service';
import type { RawQuery } from './call-query.service';
import type { FlagValues } from './cli-program';

const ACTOR = 'operator:cli';

/** Deletes [from, to) partition-aware and audited: AccessLogPartitions.deleteRange. */
export type DeleteRange = (from: Date, to: Date, actor: string) => Promise<number>;

type Values = FlagValues;

/**
 * Flags -> the query the console API would receive, so both check and answer it with the same code; a flag
 * the sub-command does not take is refused like an unknown parameter (`delete --peer` deletes no "peer only").
 */
function rawQuery(v: Values): RawQuery {
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k, value]) => typeof value === 'string' && k !== 'out')
      .map(([k, value]) => [k === 'claimed-peer' ? 'claimedPeer' : k, value]),
  );
}

/** A ContractViolation as one readable line per field (`--from: from must be an ISO 8601 instant …`). */
function readable<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ContractViolation)
      throw new Error(
        `${e.message}\n${e.errors.map((x) => `  --${x.field}: ${x.message} [${x.rule}]`).join('\n')}`,
      );
    throw e;
  }
}

const TABLE_COLUMNS: Array<[string, (i: AccessLogItem) => string]> = [
  ['STARTED AT (UTC)', (i) => i.startedAt],
  ['DIR', (i) => (i.direction === 'inbound' ? 'in' : 'out')],
  // An unauthenticated call shows the id it claimed, marked: `?shop-1`.
  ['PEER', (i) => i.peerId ?? (i.claimedPeerId ? `?${i.claimedPeerId}` : '-')],
  ['METHOD', (i) => i.method],
  ['SERVICE', (i) => i.service],
  ['RESULT', (i) => i.result],
  ['HTTP', (i) => (i.httpStatus === null ? '-' : String(i.httpStatus))],
  ['CODE', (i) => i.errorCode ?? '-'],
  ['MS', (i) => i.durationMs.toFixed(1)],
  ['ID', (i) => i.id],
];

export function formatTable(items: AccessLogItem[]): string {
  const cells = items.map((i) => TABLE_COLUMNS.map(([, get]) => get(i).replace(/[\r\n\t]/g, ' ')));
  const widths = TABLE_COLUMNS.map(([h], c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((s, c) => s.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  return [line(TABLE_COLUMNS.map(([h]) => h)), ...cells.map(line)].join('\n');
}

/** A one-line progress bar on stderr (`\r`-redrawn), at most ten times a second. */
function progressBar(total: number): { update: (n: number) => void; done: (n: number) => void } {
  const width = 30;
  let last = 0;
  const draw = (n: number) => {
    const ratio = total > 0 ? Math.min(1, n / total) : 1;
    const fill = Math.round(ratio * width);
    process.stderr.write(
      `\rexporting [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${n}/${total} ${(ratio * 100).toFixed(0)}%`,
    );
  };
  return {
    update: (n) => {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(n);
    },
    done: (n) => {
      draw(n);
      process.stderr.write('\n');
    },
  };
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function exportCommand(query: AccessLogQueryService, v: Values): Promise<unknown> {
  const { filter, format } = readable(() => parseAccessLogExport(rawQuery(v)));
  if (v.format === undefined) throw new Error('name the format: --format ndjson|csv');
  const bar = process.stderr.isTTY ? progressBar(await query.count(filter)) : null;
  let exported = 0;
  const stream = exportStream(query, filter, format, (n) => {
    exported = n;
    bar?.update(n);
  });
  const out = typeof v.out === 'string' ? v.out : undefined;
  if (out) {
    await pipeline(stream, createWriteStream(out));
  } else {
    // stdout stays open (it is not ours to close); backpressure still applies.
    const stdout = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (process.stdout.write(chunk)) cb();
        else process.stdout.once('drain', () => cb());
      },
    });
    await pipeline(stream, stdout);
  }
  bar?.done(exported);
  const summary = { exported, format, ...(out ? { file: out } : {}) };
  if (out) return summary;
  if (!v.json) process.stderr.write(`exported ${exported} records\n`);
  return undefined;
}

async function deleteCommand(query: AccessLogQueryService, deleteRange: DeleteRange, v: Values) {
  const { from, to } = readable(() => parseAccessLogRange(rawQuery(v)));
  if (!v.yes) {
    if (!process.stdin.isTTY) throw new Error('deleting needs --yes when not run interactively');
    const n = await query.count({ from: from.toISOString(), to: to.toISOString() });
    const ok = await confirm(
      `Delete ${n} access log records from ${from.toISOString()} to ${to.toISOString()}? [y/N] `,
    );
    if (!ok) throw new Error('cancelled; nothing deleted');
  }
  return { deleted: await deleteRange(from, to, ACTOR), from, to };
}

/**
 * `access-log search|export|delete|audit`: the console API's search, export and deletion, straight on the
 * database. Returns what main prints as JSON, or undefined when it wrote its own output (a table, an
 * export on stdout).
 */
export async function accessLogSearchCommand(
  ds: DataSource,
  deleteRange: DeleteRange,
  sub: string,
  values: Values,
): Promise<unknown> {
  const query = new AccessLogQueryService(ds);
  switch (sub) {
    case 'search': {
      const s = readable(() => parseAccessLogSearch(rawQuery(values)));
      const page = await query.page(s.filter, s.limit, s.cursor);
      if (values.json) return page;
      console.log(page.items.length ? formatTable(page.items) : 'no records');
      if (page.nextCursor) console.log(`\nmore: --cursor ${page.nextCursor}`);
      return undefined;
    }
    case 'export':
      return exportCommand(query, values);
    case 'delete':
      return deleteCommand(query, deleteRange, values);
    case 'audit':
      return { items: await query.audit(readable(() => parseAuditLimit(rawQuery(values)))) };
    default:
      throw new Error(`not an access-log search command: ${sub}`);
  }
}
