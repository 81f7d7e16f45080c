import { ContractViolation } from '@switchboard/contracts';
import type { DataSource } from 'typeorm';
import {
  csvRow,
  CSV_HEADER,
  exportFilename,
  exportStream,
  itemsFromCsv,
  itemsFromNdjson,
  parseCsv,
  startExport,
} from './access-log-export';
import {
  accessLogPageSql,
  accessLogWhere,
  AccessLogItem,
  AccessLogQueryService,
  parseAccessLogExport,
  parseAccessLogRange,
  parseAccessLogSearch,
  parseAuditLimit,
} from './access-log-query.service';
import { encodeCursor } from './call-query.service';

const ID = '0190f3c1-6a55-7c1f-9a43-2d8e3f1a7b90';

function violations(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractViolation);
    return (e as ContractViolation).errors.map((x) => [x.field, x.rule]);
  }
  throw new Error('expected a ContractViolation');
}

describe('parseAccessLogSearch', () => {
  it('takes every filter as an exact value, limit and cursor', () => {
    const cursor = encodeCursor({ startedAt: '2026-01-05T10:00:00.123456Z', id: ID });
    expect(
      parseAccessLogSearch({
        peer: 'shop',
        service: '/v1/website/orders',
        direction: 'inbound',
        result: 'rejected',
        code: 'AUTH_INVALID',
        from: '2026-01-05T03:00:00+03:00',
        to: '2026-01-06T00:00:00.5Z',
        limit: '1000',
        cursor,
      }),
    ).toEqual({
      filter: {
        peer: 'shop',
        service: '/v1/website/orders',
        direction: 'inbound',
        result: 'rejected',
        code: 'AUTH_INVALID',
        from: '2026-01-05T03:00:00+03:00',
        to: '2026-01-06T00:00:00.5Z',
        fromMs: Date.UTC(2026, 0, 5),
        toMs: Date.UTC(2026, 0, 6, 0, 0, 0, 500),
      },
      limit: 1000,
      cursor: { startedAt: '2026-01-05T10:00:00.123456Z', id: ID },
    });
  });

  it('defaults to 100 records and no filter', () => {
    expect(parseAccessLogSearch({})).toEqual({ filter: {}, limit: 100 });
  });

  it.each([
    [{ limit: '0' }, 'limit', 'range'],
    [{ limit: '1001' }, 'limit', 'range'],
    [{ limit: '5x' }, 'limit', 'range'],
    [{ direction: 'sideways' }, 'direction', 'isIn'],
    [{ result: 'ok' }, 'result', 'isIn'],
    [{ from: '2026-01-05' }, 'from', 'isIso8601'],
    [{ to: '2026-01-05T00:00:00' }, 'to', 'isIso8601'],
    [{ from: '2026-01-05T00:00:00Z', to: '2026-01-05T00:00:00Z' }, 'to', 'range'],
    [{ peer: '' }, 'peer', 'isNotEmpty'],
    [{ peer: ['a', 'b'] }, 'peer', 'single'],
    [{ cursor: 'bm9wZQ' }, 'cursor', 'isCursor'],
    [{ peerId: 'shop' }, 'peerId', 'unknown'],
    [{ format: 'csv' }, 'format', 'unknown'],
  ])('refuses %p', (q, field, rule) => {
    expect(violations(() => parseAccessLogSearch(q))).toEqual([[field, rule]]);
  });
});

it('refuses a filter value over 500 characters', () => {
  expect(violations(() => parseAccessLogSearch({ code: 'x'.repeat(501) }))).toEqual([['code', 'maxLength']]);
});

describe('parseAccessLogExport / parseAccessLogRange / parseAuditLimit', () => {
  it('export: ndjson by default, csv on request, the same filters', () => {
    expect(parseAccessLogExport({ peer: 'shop' })).toEqual({ filter: { peer: 'shop' }, format: 'ndjson' });
    expect(parseAccessLogExport({ format: 'csv' }).format).toBe('csv');
    expect(violations(() => parseAccessLogExport({ format: 'xml' }))).toEqual([['format', 'isIn']]);
    expect(violations(() => parseAccessLogExport({ limit: '5' }))).toEqual([['limit', 'unknown']]);
  });

  it('range: both bounds required, to after from, nothing but from and to', () => {
    expect(parseAccessLogRange({ from: '2026-01-05T00:00:00Z', to: '2026-01-06T03:00:00+03:00' })).toEqual({
      from: new Date('2026-01-05T00:00:00Z'),
      to: new Date('2026-01-06T00:00:00Z'),
    });
    expect(violations(() => parseAccessLogRange({}))).toEqual([
      ['from', 'required'],
      ['to', 'required'],
    ]);
    expect(violations(() => parseAccessLogRange({ from: '2026-01-05T00:00:00Z' }))).toEqual([
      ['to', 'required'],
    ]);
    expect(
      violations(() => parseAccessLogRange({ from: '2026-01-06T00:00:00Z', to: '2026-01-05T00:00:00Z' })),
    ).toEqual([['to', 'range']]);
    expect(
      violations(() =>
        parseAccessLogRange({ from: '2026-01-05T00:00:00.0000001Z', to: '2026-01-06T00:00:00Z' }),
      ),
    ).toEqual([['from', 'precision']]);
    expect(
      violations(() =>
        parseAccessLogRange({ from: '2026-01-05T00:00:00Z', to: '2026-01-06T00:00:00Z', peer: 'shop' }),
      ),
    ).toEqual([['peer', 'unknown']]);
  });

  it('audit limit', () => {
    expect(parseAuditLimit({})).toBe(100);
    expect(parseAuditLimit({ limit: '7' })).toBe(7);
    expect(violations(() => parseAuditLimit({ limit: '0' }))).toEqual([['limit', 'range']]);
  });
});

describe('SQL', () => {
  it('binds every value; the cursor bounds started_at for partition pruning and compares (started_at, id)', () => {
    const { where, params } = accessLogWhere(
      { peer: "x'; DROP TABLE access_log; --", code: 'AUTH_INVALID', from: '2026-01-05T00:00:00Z' },
      { startedAt: '2026-01-05T10:00:00.123456Z', id: ID },
    );
    expect(where).toBe(
      'WHERE peer_id = $1 AND error_code = $2 AND started_at >= $3::timestamptz' +
        ' AND started_at <= $4::timestamptz AND (started_at, id) < ($4::timestamptz, $5::uuid)',
    );
    expect(params).toEqual([
      "x'; DROP TABLE access_log; --",
      'AUTH_INVALID',
      '2026-01-05T00:00:00Z',
      '2026-01-05T10:00:00.123456Z',
      ID,
    ]);
  });

  it('orders newest first by (started_at, id) and limits', () => {
    const { sql, params } = accessLogPageSql({}, 101);
    expect(sql).toMatch(/ORDER BY access_log.started_at DESC, access_log.id DESC\s+LIMIT \$1$/);
    expect(sql).toMatch(/ AS started_at_us,/);
    expect(params).toEqual([101]);
    expect(sql).not.toMatch(/WHERE/);
  });
});

const item = (over: Partial<AccessLogItem> = {}): AccessLogItem => ({
  id: ID,
  direction: 'inbound',
  peerId: 'shop',
  claimedPeerId: null,
  service: '/v1/website/orders',
  method: 'POST',
  startedAt: '2026-01-05T10:00:00.123456Z',
  durationMs: 12.5,
  result: 'accepted',
  httpStatus: 202,
  errorCode: null,
  eventId: null,
  clientIp: '10.0.0.1',
  bytesIn: 512,
  bytesOut: 0,
  correlationId: '',
  bodyHash: 'ab'.repeat(32),
  ...over,
});

describe('export formats round-trip', () => {
  const tricky = [
    item(),
    item({
      peerId: null,
      claimedPeerId: 'shop',
      correlationId: 'a,b "quoted"\r\nnext line',
      body: '{"x":"ümlaut, \\"q\\"\\n"}\n',
      httpStatus: null,
      bytesIn: null,
      durationMs: 0.0625,
    }),
    item({ body: '', errorCode: 'AUTH_INVALID', clientIp: '2001:db8::1', service: 'crm.upsert' }),
  ];

  it('CSV: header, RFC 4180 quoting, NULL vs empty string, numbers, CRLF', () => {
    const csv = CSV_HEADER + tricky.map(csvRow).join('');
    expect(csv.split('\r\n')[0]).toBe(
      'id,direction,peerId,claimedPeerId,service,method,startedAt,durationMs,result,httpStatus,errorCode,eventId,' +
        'clientIp,bytesIn,bytesOut,correlationId,bodyHash,body',
    );
    expect(csvRow(tricky[0])).toContain(',"",'); // empty correlation id is quoted, NULL event id is not
    expect(csvRow(tricky[0])).toMatch(/,202,,,10\.0\.0\.1,/);
    expect(itemsFromCsv(csv)).toEqual(tricky);
  });

  it('NDJSON: one object a line', () => {
    const text = tricky.map((i) => `${JSON.stringify(i)}\n`).join('');
    expect(text.split('\n')).toHaveLength(4);
    expect(itemsFromNdjson(text)).toEqual(tricky);
  });

  it('parseCsv: trailing empty field, last line without CRLF, bad input', () => {
    expect(parseCsv('a,b,\r\n"",x,"y""z"')).toEqual([
      ['a', 'b', null],
      ['', 'x', 'y"z'],
    ]);
    expect(() => parseCsv('"open')).toThrow(/unterminated/);
    expect(() => parseCsv('a"b')).toThrow(/quote/);
  });

  it('file name from the bounds', () => {
    expect(
      exportFilename({ fromMs: Date.UTC(2026, 0, 5), toMs: Date.UTC(2026, 0, 6, 0, 0, 0, 250) }, 'csv'),
    ).toBe('access-log-20260105T000000Z-20260106T000000.250Z.csv');
    expect(exportFilename({}, 'ndjson')).toBe('access-log-start-now.ndjson');
  });
});

describe('AccessLogQueryService', () => {
  /** A fake database over `all` (already newest first) that honours the cursor and limit of each query. */
  function fakeDs(all: AccessLogItem[]) {
    const calls: unknown[][] = [];
    const ds = {
      query: jest.fn(async (sql: string, params: unknown[]) => {
        calls.push(params);
        const limit = params[params.length - 1] as number;
        let rows = all;
        if (sql.includes('(started_at, id) <')) {
          const [ts, id] = params.slice(-3, -1) as string[];
          rows = all.filter((r) => r.startedAt < ts || (r.startedAt === ts && r.id < id));
        }
        return rows.slice(0, limit).map((r) => ({
          id: r.id,
          direction: r.direction,
          peer_id: r.peerId,
          service: r.service,
          method: r.method,
          started_at_us: r.startedAt,
          duration_ms: r.durationMs,
          result: r.result,
          http_status: r.httpStatus,
          error_code: r.errorCode,
          event_id: r.eventId,
          client_ip: r.clientIp,
          bytes_in: r.bytesIn,
          bytes_out: r.bytesOut,
          correlation_id: r.correlationId,
          body_hash: r.bodyHash,
          body: r.body ?? null,
        }));
      }),
    };
    return { ds: ds as unknown as DataSource, calls };
  }

  const rows = Array.from({ length: 25 }, (_, n) =>
    item({
      id: `0190f3c1-6a55-7c1f-9a43-${String(1000 - n).padStart(12, '0')}`,
      startedAt: `2026-01-05T10:00:${String(59 - Math.floor(n / 2)).padStart(2, '0')}.000001Z`,
    }),
  );

  it('search pages visit every row once, in order, with a cursor between pages', async () => {
    const svc = new AccessLogQueryService(fakeDs(rows).ds);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await svc.search({ limit: '4', ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((i) => i.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(rows.map((r) => r.id));
  });

  it('the export stream writes every row in keyset pages of the given size', async () => {
    const { ds, calls } = fakeDs(rows);
    const svc = new AccessLogQueryService(ds);
    const pages: number[] = [];
    for await (const p of svc.pages({}, 10)) pages.push(p.length);
    expect(pages).toEqual([10, 10, 5]);
    expect(calls.map((c) => c[c.length - 1])).toEqual([10, 10, 10]);

    const chunks: string[] = [];
    for await (const c of exportStream(svc, {}, 'csv')) chunks.push(String(c));
    expect(itemsFromCsv(chunks.join(''))).toEqual(rows);
  });

  it('startExport reads the first page before answering: a refused query fails before any byte', async () => {
    const refusing = {
      query: async () => Promise.reject(new Error('invalid byte sequence')),
    } as unknown as DataSource;
    await expect(startExport(new AccessLogQueryService(refusing), {}, 'csv')).rejects.toThrow(
      'invalid byte sequence',
    );

    const { ds } = fakeDs(rows);
    const chunks: string[] = [];
    for await (const c of await startExport(new AccessLogQueryService(ds), {}, 'csv')) chunks.push(String(c));
    expect(itemsFromCsv(chunks.join(''))).toEqual(rows);
    const none: string[] = [];
    for await (const c of await startExport(new AccessLogQueryService(fakeDs([]).ds), {}, 'csv'))
      none.push(String(c));
    expect(none.join('')).toBe(CSV_HEADER);
  });

  it('pages shrink when rows carry big bodies', async () => {
    const big = rows.map((r) => ({ ...r, body: 'x'.repeat(1024 * 1024) }));
    const { ds, calls } = fakeDs(big);
    const svc = new AccessLogQueryService(ds);
    let total = 0;
    for await (const p of svc.pages({}, 20)) total += p.length;
    expect(total).toBe(25);
    expect(calls[1][calls[1].length - 1]).toBeLessThan(20);
  });
});
