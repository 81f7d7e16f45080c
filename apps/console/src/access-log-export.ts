import { Readable } from 'node:stream';
import {
  ACCESS_LOG_FIELDS,
  AccessLogField,
  AccessLogFilter,
  AccessLogItem,
  AccessLogQueryService,
  ExportFormat,
  NUMERIC_FIELDS,
} from './access-log-query.service';

/**
 * Export (backup) of the access log as NDJSON or CSV, streamed page by page.
 *
 * NDJSON: one JSON object per line, keys ACCESS_LOG_FIELDS (`body` only when the record kept one).
 * CSV (RFC 4180): a header row with the same names, CRLF line ends, fields quoted when they hold a comma, a
 * quote, CR or LF. NULL is an empty unquoted field and an empty string a quoted one (`""`), as in
 * PostgreSQL's COPY … CSV, so the file loads back with
 * `\copy access_log (id, direction, peer_id, claimed_peer_id, …, body) FROM 'file.csv' CSV HEADER`.
 */

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
};

const compact = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.000Z$/, 'Z');

/** `access-log-<from>-<to>.<ext>`, bounds in basic ISO form (`20260105T000000Z`); `start`/`now` when open. */
export function exportFilename(f: AccessLogFilter, format: ExportFormat): string {
  const from = f.fromMs === undefined ? 'start' : compact(f.fromMs);
  const to = f.toMs === undefined ? 'now' : compact(f.toMs);
  return `access-log-${from}-${to}.${format}`;
}

export function ndjsonLine(item: AccessLogItem): string {
  return `${JSON.stringify(item)}\n`;
}

function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return s === '' || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = `${ACCESS_LOG_FIELDS.join(',')}\r\n`;

export function csvRow(item: AccessLogItem): string {
  const rec = item as unknown as Record<string, string | number | null | undefined>;
  return `${ACCESS_LOG_FIELDS.map((k) => csvField(rec[k])).join(',')}\r\n`;
}

export function formatPage(items: AccessLogItem[], format: ExportFormat): string {
  return items.map(format === 'csv' ? csvRow : ndjsonLine).join('');
}

/**
 * The export as a byte stream: pages are fetched only when the consumer wants more (backpressure), and a
 * consumer that goes away (client disconnect) ends the query loop. `onRows` reports progress.
 */
export function exportStream(
  query: AccessLogQueryService,
  filter: AccessLogFilter,
  format: ExportFormat,
  onRows?: (total: number) => void,
): Readable {
  return streamPages(query.pages(filter), undefined, format, onRows);
}

/**
 * Like exportStream, but the first page is read before this resolves: a query the database refuses fails
 * here, while the caller can still answer with a problem, instead of after a 200 and the CSV header (a
 * transfer cut short right at its start).
 */
export async function startExport(
  query: AccessLogQueryService,
  filter: AccessLogFilter,
  format: ExportFormat,
): Promise<Readable> {
  const pages = query.pages(filter);
  const first = await pages.next();
  return streamPages(pages, first, format);
}

function streamPages(
  pages: AsyncGenerator<AccessLogItem[]>,
  first: IteratorResult<AccessLogItem[]> | undefined,
  format: ExportFormat,
  onRows?: (total: number) => void,
): Readable {
  async function* chunks(): AsyncGenerator<string> {
    if (format === 'csv') yield CSV_HEADER;
    let total = 0;
    const emit = (items: AccessLogItem[]): string => {
      total += items.length;
      onRows?.(total);
      return formatPage(items, format);
    };
    if (first) {
      if (first.done) return;
      yield emit(first.value);
    }
    for await (const items of pages) yield emit(items);
  }
  return Readable.from(chunks(), { objectMode: false, encoding: 'utf8' });
}

/** RFC 4180 parser that keeps the NULL / empty-string distinction above: null for an empty unquoted field. */
export function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let value: string | null;
    if (text[i] === '"') {
      let s = '';
      i += 1;
      for (;;) {
        if (i >= n) throw new Error('CSV: unterminated quoted field');
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            s += '"';
            i += 2;
          } else {
            i += 1;
            break;
          }
        } else {
          s += c;
          i += 1;
        }
      }
      value = s;
    } else {
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\r' && text[j] !== '\n') j += 1;
      const s = text.slice(i, j);
      if (s.includes('"')) throw new Error('CSV: quote inside an unquoted field');
      value = s === '' ? null : s;
      i = j;
    }
    row.push(value);
    if (i >= n || text[i] === '\r' || text[i] === '\n') {
      rows.push(row);
      row = [];
      if (text[i] === '\r') i += 1;
      if (text[i] === '\n') i += 1;
    } else if (text[i] === ',') {
      i += 1;
      if (i >= n) row.push(null);
    } else {
      throw new Error(`CSV: unexpected character at ${i}`);
    }
  }
  if (row.length) rows.push(row);
  return rows;
}

/** The records of a CSV export (the inverse of csvRow): numbers as numbers, `body` only when present. */
export function itemsFromCsv(text: string): AccessLogItem[] {
  const [header, ...rows] = parseCsv(text);
  if (!header || header.join(',') !== ACCESS_LOG_FIELDS.join(','))
    throw new Error('CSV: the header is not an access log export header');
  return rows.map((cells) => {
    const rec: Record<string, unknown> = {};
    ACCESS_LOG_FIELDS.forEach((k: AccessLogField, idx) => {
      const v = cells[idx] ?? null;
      if (k === 'body') {
        if (v !== null) rec.body = v;
      } else rec[k] = v !== null && NUMERIC_FIELDS.has(k) ? Number(v) : v;
    });
    return rec as unknown as AccessLogItem;
  });
}

/** The records of an NDJSON export. */
export function itemsFromNdjson(text: string): AccessLogItem[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AccessLogItem);
}
