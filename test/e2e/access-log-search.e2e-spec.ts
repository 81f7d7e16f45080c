import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itemsFromCsv, itemsFromNdjson } from '../../apps/console/src/access-log-export';
import type { AccessLogItem } from '../../apps/console/src/access-log-query.service';
import { eventually, order, ROOT, TestSystem } from './support/system';

/**
 * Operators' access log: search with every filter and keyset pages, NDJSON/CSV export (API and CLI) that
 * parses back to exactly the records, refused parameters, deletion of a range with its audit row.
 * The data set is inserted with SQL on three days well inside retention and behind the partitions
 * maintenance creates ahead, so nothing else touches it. Last, real gateway requests found by peer and code.
 */
const DAY = 86_400_000;
const HOUR = 3_600_000;
const BASE = Math.floor(Date.now() / DAY) * DAY - 12 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
/** ISO with microseconds, as the API prints started_at. */
const micro = (ms: number, us: number) => `${iso(ms).slice(0, 19)}.${String(us).padStart(6, '0')}Z`;

const PEERS = ['shop-a', 'shop-b', 'pbx-1', null] as const;
const SERVICES = ['/v1/website/orders', '/v1/telephony/events', 'crm.contacts.upsert'] as const;
const OUTCOMES = [
  { result: 'accepted', httpStatus: 202, errorCode: null },
  { result: 'rejected', httpStatus: 401, errorCode: 'AUTH_INVALID' },
  { result: 'rejected', httpStatus: 400, errorCode: 'VALIDATION_FAILED' },
  { result: 'rejected', httpStatus: 400, errorCode: 'MALFORMED_BODY' },
  { result: 'failed', httpStatus: 503, errorCode: 'BROKER_UNAVAILABLE' },
  { result: 'failed', httpStatus: null, errorCode: null },
] as const;
const N = 42;
/** Exactly on the bounds of the time-window test: from is inclusive, to exclusive. */
const WINDOW_FROM = BASE + DAY + 6 * HOUR;
const WINDOW_TO = BASE + 2 * DAY + HOUR;

function dataset(): AccessLogItem[] {
  const rows: AccessLogItem[] = [];
  for (let i = 0; i < N; i++) {
    const day = i % 3;
    let startedAt = micro(BASE + day * DAY + ((i * 37) % 1440) * 60_000, (i * 7919) % 1_000_000);
    if (i === 4) startedAt = micro(WINDOW_FROM, 0);
    if (i === 5) startedAt = micro(WINDOW_TO, 0);
    if (i >= 40) startedAt = rows[0].startedAt; // ties on started_at: id decides
    const o = OUTCOMES[(i * 5 + Math.floor(i / 6)) % 6];
    const item: AccessLogItem = {
      // Id order unrelated to time order (11 and 42 are coprime: all distinct).
      id: `01900000-0000-7000-8000-${((i * 11) % N).toString(16).padStart(12, '0')}`,
      direction: i % 5 === 0 ? 'outbound' : 'inbound',
      peerId: PEERS[i % 4],
      claimedPeerId: null,
      service: SERVICES[Math.floor(i / 3) % 3],
      method: i % 5 === 0 ? 'PUT' : 'POST',
      startedAt,
      durationMs: (i % 10) * 12.5 + 0.25,
      result: o.result,
      httpStatus: o.httpStatus,
      errorCode: o.errorCode,
      eventId: o.result === 'accepted' ? randomUUID() : null,
      clientIp: i % 5 === 0 ? `2001:db8::${(i + 256).toString(16)}` : i % 7 === 0 ? null : `10.1.0.${i}`,
      bytesIn: i % 9 === 0 ? null : 100 + i,
      bytesOut: 50,
      correlationId: i % 8 === 0 ? '' : `corr-${i}`,
      bodyHash: i % 11 === 0 ? null : i.toString(16).padStart(64, 'a'),
    };
    if (i % 6 === 1) item.body = `{"note":"a, \\"quoted\\"\r\nline ${i}","ü":"ÿ"}`;
    if (i % 13 === 0) item.body = '';
    rows.push(item);
  }
  return rows;
}

const newestFirst = (a: AccessLogItem, b: AccessLogItem) =>
  a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1;

describe('access log: search, export, deletion (console API + CLI)', () => {
  const sys = new TestSystem('access-log-search');
  const rows = dataset();
  const range = { from: iso(BASE), to: iso(BASE + 3 * DAY) };
  let tmp = '';

  const expected = (pred: (r: AccessLogItem) => boolean) => rows.filter(pred).sort(newestFirst);
  const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();
  const search = async (q: Record<string, string>) => {
    const res = await sys.consoleGet(`/v1/admin/access-log?${qs(q)}`);
    expect(res.status).toBe(200);
    return res.body as { items: AccessLogItem[]; nextCursor: string | null };
  };
  /** Follows nextCursor to the end; returns every item in the order received. */
  const all = async (q: Record<string, string>) => {
    const items: AccessLogItem[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await search({ ...q, ...(cursor ? { cursor } : {}) });
      items.push(...page.items);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 1000);
    return { items, pages };
  };
  const rawGet = (path: string, token = sys.adminToken) =>
    fetch(`${sys.app('console').url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  /** The CLI with raw stdout (no --json appended): exports on stdout, tables. */
  const cliRaw = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [join(ROOT, 'dist/apps/console/src/cli.js'), ...args],
        { env: sys.env('console'), cwd: ROOT, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  beforeAll(async () => {
    await sys.start(['gateway', 'console']);
    tmp = mkdtempSync(join(tmpdir(), 'access-log-export-'));
    for (const r of rows)
      await sys.sql(
        `INSERT INTO access_log (id, direction, peer_id, service, method, started_at, duration_ms, result,
           http_status, error_code, event_id, client_ip, bytes_in, bytes_out, correlation_id, body_hash, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [
          r.id,
          r.direction,
          r.peerId,
          r.service,
          r.method,
          r.startedAt,
          r.durationMs,
          r.result,
          r.httpStatus,
          r.errorCode,
          r.eventId,
          r.clientIp,
          r.bytesIn,
          r.bytesOut,
          r.correlationId,
          r.bodyHash,
          r.body ?? null,
        ],
      );
  });
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await sys.destroy();
  });

  it('returns the records newest first, in camelCase, body only when kept', async () => {
    const page = await search({ ...range, limit: '1000' });
    expect(page.nextCursor).toBeNull();
    expect(page.items).toEqual(expected(() => true));
    const withBody = page.items.find((i) => i.id === rows[1].id)!;
    expect(withBody.body).toBe(rows[1].body);
    expect('body' in page.items.find((i) => i.id === rows[2].id)!).toBe(false);
    expect(page.items[0].startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('every filter value returns exactly its records, in order', async () => {
    type Case = [Record<string, string>, (r: AccessLogItem) => boolean];
    const cases: Case[] = [
      ...['shop-a', 'shop-b', 'pbx-1'].map((p): Case => [{ peer: p }, (r) => r.peerId === p]),
      ...SERVICES.map((s): Case => [{ service: s }, (r) => r.service === s]),
      [{ direction: 'inbound' }, (r) => r.direction === 'inbound'],
      [{ direction: 'outbound' }, (r) => r.direction === 'outbound'],
      [{ result: 'accepted' }, (r) => r.result === 'accepted'],
      [{ result: 'rejected' }, (r) => r.result === 'rejected'],
      [{ result: 'failed' }, (r) => r.result === 'failed'],
      ...['AUTH_INVALID', 'VALIDATION_FAILED', 'MALFORMED_BODY', 'BROKER_UNAVAILABLE'].map(
        (c): [Record<string, string>, (r: AccessLogItem) => boolean] => [
          { code: c },
          (r) => r.errorCode === c,
        ],
      ),
      [{ peer: 'shop-a', result: 'rejected' }, (r) => r.peerId === 'shop-a' && r.result === 'rejected'],
      [{ peer: 'nobody' }, () => false],
      [{ code: 'auth_invalid' }, () => false], // exact match, case included
    ];
    for (const [q, pred] of cases) {
      const want = expected(pred).map((r) => r.id);
      const got = (await search({ ...range, ...q, limit: '1000' })).items.map((i) => i.id);
      expect({ q, ids: got }).toEqual({ q, ids: want });
    }
  });

  it('from is inclusive and to exclusive, offsets honoured', async () => {
    const want = expected((r) => r.startedAt >= micro(WINDOW_FROM, 0) && r.startedAt < micro(WINDOW_TO, 0));
    // The same instants written with a +03:00 offset.
    const from = iso(WINDOW_FROM + 3 * HOUR).replace('.000Z', '+03:00');
    const to = iso(WINDOW_TO + 3 * HOUR).replace('.000Z', '+0300');
    const got = (await search({ from, to, limit: '1000' })).items.map((i) => i.id);
    expect(got).toEqual(want.map((r) => r.id));
    expect(got).toContain(rows[4].id);
    expect(got).not.toContain(rows[5].id);
    expect(got.length).toBeGreaterThan(5);
  });

  it('keyset pages of 5 visit every record exactly once, ties on started_at included', async () => {
    const { items, pages } = await all({ ...range, limit: '5' });
    expect(items.map((i) => i.id)).toEqual(expected(() => true).map((r) => r.id));
    expect(pages).toBe(Math.ceil(N / 5));
    const filtered = await all({ ...range, direction: 'inbound', limit: '3' });
    expect(filtered.items.map((i) => i.id)).toEqual(
      expected((r) => r.direction === 'inbound').map((r) => r.id),
    );
    // Default limit is 100: one page here.
    expect((await search(range)).items).toHaveLength(N);
  });

  it('refuses bad parameters with 400 VALIDATION_FAILED and the field', async () => {
    const bad: Array<[string, string, string]> = [
      ['/v1/admin/access-log?limit=0', 'limit', 'range'],
      ['/v1/admin/access-log?limit=1001', 'limit', 'range'],
      ['/v1/admin/access-log?direction=sideways', 'direction', 'isIn'],
      ['/v1/admin/access-log?result=ok', 'result', 'isIn'],
      ['/v1/admin/access-log?from=2026-01-01', 'from', 'isIso8601'],
      ['/v1/admin/access-log?to=yesterday', 'to', 'isIso8601'],
      [`/v1/admin/access-log?from=${range.to}&to=${range.from}`, 'to', 'range'],
      ['/v1/admin/access-log?cursor=garbage', 'cursor', 'isCursor'],
      ['/v1/admin/access-log?peer=a&peer=b', 'peer', 'single'],
      ['/v1/admin/access-log?peerId=shop-a', 'peerId', 'unknown'],
      ['/v1/admin/access-log/export?format=xml', 'format', 'isIn'],
      ['/v1/admin/access-log/export?limit=5', 'limit', 'unknown'],
      ['/v1/admin/access-log/audit?limit=abc', 'limit', 'range'],
    ];
    for (const [path, field, rule] of bad) {
      const res = await rawGet(path);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const body = (await res.json()) as { code: string; errors: Array<{ field: string; rule: string }> };
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.errors).toEqual([expect.objectContaining({ field, rule })]);
    }
    const del = await sys.consoleCall('DELETE', `/v1/admin/access-log?from=${range.from}`);
    expect(del.status).toBe(400);
    expect(del.body.errors).toEqual([expect.objectContaining({ field: 'to', rule: 'required' })]);
    const noToken = await fetch(`${sys.app('console').url}/v1/admin/access-log/export`);
    expect(noToken.status).toBe(401);
    expect((await rawGet('/v1/admin/access-log', 'wrong')).status).toBe(401);
  });

  it('exports NDJSON and CSV over the API that parse back to exactly the records', async () => {
    const want = expected(() => true);
    const nd = await rawGet(`/v1/admin/access-log/export?${qs(range)}`);
    expect(nd.status).toBe(200);
    expect(nd.headers.get('content-type')).toBe('application/x-ndjson');
    const stamp = (ms: number) => iso(ms).replace(/[-:]/g, '').replace('.000Z', 'Z');
    expect(nd.headers.get('content-disposition')).toBe(
      `attachment; filename=access-log-${stamp(BASE)}-${stamp(BASE + 3 * DAY)}.ndjson`,
    );
    expect(itemsFromNdjson(await nd.text())).toEqual(want);

    const csv = await rawGet(`/v1/admin/access-log/export?${qs({ ...range, format: 'csv' })}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/filename=access-log-.*\.csv$/);
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toBe(
      'id,direction,peerId,claimedPeerId,service,method,startedAt,durationMs,result,httpStatus,errorCode,eventId,' +
        'clientIp,bytesIn,bytesOut,correlationId,bodyHash,body',
    );
    expect(itemsFromCsv(text)).toEqual(want);

    const shopB = await rawGet(
      `/v1/admin/access-log/export?${qs({ ...range, peer: 'shop-b', format: 'csv' })}`,
    );
    expect(itemsFromCsv(await shopB.text())).toEqual(expected((r) => r.peerId === 'shop-b'));
    const none = await rawGet(
      `/v1/admin/access-log/export?${qs({ ...range, peer: 'nobody', format: 'csv' })}`,
    );
    expect(itemsFromCsv(await none.text())).toEqual([]);
  });

  it('streams an export bigger than one page (keyset chunks) completely and in order', async () => {
    const day = BASE - 2 * DAY;
    await sys.sql(
      `INSERT INTO access_log (id, direction, peer_id, service, method, started_at, duration_ms, result, http_status)
       SELECT gen_random_uuid(), 'inbound', 'bulk-' || (g % 3), 'bulk.svc', 'POST',
              $1::timestamptz + (g % 3000) * interval '17 seconds' + (g % 7) * interval '1 microsecond',
              g % 100, 'accepted', 202
         FROM generate_series(1, 4500) g`,
      [iso(day)],
    );
    const ids = (
      await sys.sql<{ id: string }>(
        `SELECT id FROM access_log WHERE service = 'bulk.svc' ORDER BY started_at DESC, id DESC`,
      )
    ).map((r) => r.id);
    for (const format of ['ndjson', 'csv']) {
      const res = await rawGet(`/v1/admin/access-log/export?service=bulk.svc&format=${format}`);
      expect(res.headers.get('transfer-encoding')).toBe('chunked');
      const text = await res.text();
      const items = format === 'csv' ? itemsFromCsv(text) : itemsFromNdjson(text);
      expect(items.map((i) => i.id)).toEqual(ids);
    }
    const cli = await sys.cli(
      'access-log',
      'export',
      '--format',
      'ndjson',
      '--service',
      'bulk.svc',
      '--out',
      join(tmp, 'bulk.ndjson'),
    );
    expect(cli).toEqual({ exported: 4500, format: 'ndjson', file: join(tmp, 'bulk.ndjson') });
    expect(itemsFromNdjson(readFileSync(join(tmp, 'bulk.ndjson'), 'utf8')).map((i) => i.id)).toEqual(ids);
    await sys.sql(`DELETE FROM access_log WHERE service = 'bulk.svc'`);
  });

  it('CLI: search (JSON and table), export to a file and to stdout, same records as the API', async () => {
    const found = await sys.cli(
      'access-log',
      'search',
      '--peer',
      'pbx-1',
      '--from',
      range.from,
      '--to',
      range.to,
    );
    expect(found.items).toEqual(expected((r) => r.peerId === 'pbx-1'));
    expect(found.nextCursor).toBeNull();

    const first = await sys.cli(
      'access-log',
      'search',
      '--result',
      'rejected',
      '--from',
      range.from,
      '--to',
      range.to,
      '--limit',
      '4',
    );
    const next = await sys.cli(
      'access-log',
      'search',
      '--result',
      'rejected',
      '--from',
      range.from,
      '--to',
      range.to,
      '--limit',
      '4',
      '--cursor',
      first.nextCursor,
    );
    const rejected = expected((r) => r.result === 'rejected').map((r) => r.id);
    expect([...first.items, ...next.items].map((i: AccessLogItem) => i.id)).toEqual(rejected.slice(0, 8));

    const table = await cliRaw(
      'access-log',
      'search',
      '--code',
      'AUTH_INVALID',
      '--from',
      range.from,
      '--to',
      range.to,
    );
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^STARTED AT \(UTC\)\s+DIR\s+PEER/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).pop())).toEqual(
      expected((r) => r.errorCode === 'AUTH_INVALID').map((r) => r.id),
    );

    for (const format of ['ndjson', 'csv'] as const) {
      const out = join(tmp, `cli.${format}`);
      const res = await sys.cli(
        'access-log',
        'export',
        '--format',
        format,
        '--out',
        out,
        '--from',
        range.from,
        '--to',
        range.to,
      );
      expect(res).toEqual({ exported: N, format, file: out });
      const text = readFileSync(out, 'utf8');
      expect(format === 'csv' ? itemsFromCsv(text) : itemsFromNdjson(text)).toEqual(expected(() => true));
    }
    const stdout = await cliRaw(
      'access-log',
      'export',
      '--format',
      'csv',
      '--direction',
      'outbound',
      '--from',
      range.from,
      '--to',
      range.to,
    );
    expect(stdout.code).toBe(0);
    expect(itemsFromCsv(stdout.stdout)).toEqual(expected((r) => r.direction === 'outbound'));
    expect(stdout.stderr).toContain(`exported ${expected((r) => r.direction === 'outbound').length} records`);

    const badFlag = await cliRaw('access-log', 'search', '--direction', 'up');
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toContain('--direction: direction must be one of: inbound, outbound');
    const noYes = await cliRaw('access-log', 'delete', '--from', range.from, '--to', range.to);
    expect(noYes.code).toBe(1);
    expect(noYes.stderr).toContain('--yes');
    const peerDelete = await cliRaw(
      'access-log',
      'delete',
      '--from',
      range.from,
      '--to',
      range.to,
      '--peer',
      'shop-a',
      '--yes',
    );
    // Not an option of delete: refused as a usage error (exit 2) before anything runs.
    expect(peerDelete.code).toBe(2);
    expect(peerDelete.stderr).toContain("unknown option '--peer'");
    expect(
      await sys.sql(`SELECT 1 FROM access_log WHERE started_at >= $1 AND started_at < $2`, [
        range.from,
        range.to,
      ]),
    ).toHaveLength(N);
  });

  it('DELETE removes exactly the records of [from, to) and writes an audit row; so does the CLI', async () => {
    const from = BASE + DAY;
    const to = BASE + DAY + 12 * HOUR;
    const inRange = (r: AccessLogItem) => r.startedAt >= micro(from, 0) && r.startedAt < micro(to, 0);
    const gone = rows.filter(inRange);
    expect(gone.length).toBeGreaterThan(2);
    const res = await sys.consoleCall(
      'DELETE',
      `/v1/admin/access-log?${qs({ from: iso(from), to: iso(to) })}`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deleted: gone.length });
    const left = (await search({ ...range, limit: '1000' })).items.map((i) => i.id);
    expect(left).toEqual(expected((r) => !inRange(r)).map((r) => r.id));

    // Newest first; maintenance passes (action 'retention') may sit in between, deletions are 'delete'.
    const audit = await sys.consoleGet('/v1/admin/access-log/audit');
    expect(audit.status).toBe(200);
    expect(audit.body.items.filter((a: any) => a.action === 'delete')[0]).toMatchObject({
      actor: 'admin-api',
      rangeFrom: iso(from),
      rangeTo: iso(to),
      rowsDeleted: gone.length,
    });

    // The CLI: day 0 entirely.
    const day0 = (r: AccessLogItem) => r.startedAt >= micro(BASE, 0) && r.startedAt < micro(BASE + DAY, 0);
    const cli = await sys.cli('access-log', 'delete', '--from', iso(BASE), '--to', iso(BASE + DAY), '--yes');
    expect(cli.deleted).toBe(rows.filter(day0).length);
    const after = (await search({ ...range, limit: '1000' })).items.map((i) => i.id);
    expect(after).toEqual(expected((r) => !inRange(r) && !day0(r)).map((r) => r.id));
    const trail = await sys.cli('access-log', 'audit', '--limit', '10');
    expect(
      trail.items.filter((a: any) => a.action === 'delete').map((a: any) => [a.actor, a.rowsDeleted]),
    ).toEqual([
      ['operator:cli', rows.filter(day0).length],
      ['admin-api', gone.length],
    ]);
    expect(await sys.sql(`SELECT actor FROM access_log_audit WHERE action = 'delete' ORDER BY id`)).toEqual([
      { actor: 'admin-api' },
      { actor: 'operator:cli' },
    ]);
  });

  it('finds real gateway requests by peer and code', async () => {
    const t0 = new Date(Date.now() - 1000).toISOString();
    const accepted = await sys.post('/v1/website/orders', order());
    const badToken = await sys.post('/v1/website/orders', order(), {
      authorization: 'Bearer sbp_not_a_token',
    });
    const malformed = await sys.post('/v1/website/orders', '{"not json');
    expect([accepted.status, badToken.status, malformed.status]).toEqual([202, 401, 400]);

    // The malformed body was refused before authentication: it only CLAIMED the peer (its token's id).
    const byClaim = await eventually(async () => {
      const page = await search({ claimedPeer: sys.peerId, from: t0 });
      return page.items.length >= 1 ? page : null;
    });
    expect(byClaim!.items.map((i) => [i.peerId, i.result, i.errorCode])).toEqual([
      [null, 'rejected', 'MALFORMED_BODY'],
    ]);
    const byPeer = await search({ peer: sys.peerId, from: t0 });
    expect(byPeer.items.map((i) => [i.result, i.errorCode])).toEqual([['accepted', null]]);
    expect(byPeer.items[0]).toMatchObject({ direction: 'inbound', method: 'POST', httpStatus: 202 });
    const malformedOnly = await search({ claimedPeer: sys.peerId, code: 'MALFORMED_BODY', from: t0 });
    expect(malformedOnly.items).toHaveLength(1);

    const authFailed = await eventually(async () => {
      const page = await search({ code: 'AUTH_INVALID', from: t0 });
      return page.items.length ? page : null;
    });
    expect(authFailed!.items).toHaveLength(1);
    expect(authFailed!.items[0]).toMatchObject({
      result: 'rejected',
      httpStatus: 401,
      errorCode: 'AUTH_INVALID',
    });
  });
});
