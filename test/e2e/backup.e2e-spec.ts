import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { eventually, order, ROOT, TestSystem } from './support/system';

/**
 * Issue 17 part 6: data made through the system (orders, leads, peers) is backed up, the backup restored into a
 * fresh database, and a console on that database answers exactly as the original did. A changed byte or a
 * wrong master key fails `backup verify` with a clear message; restore refuses a database that holds data.
 */
describe('backup: create, verify, restore into a fresh database', () => {
  const sys = new TestSystem('backup');
  const dir = mkdtempSync(join(tmpdir(), 'sb-backup-'));
  const file = join(dir, 'switchboard.backup');
  const restoredDb = `sb_${sys.namespace}_restored`;
  let restoredUrl = '';

  /** The CLI as an operator runs it; env overrides on top of the console's. */
  function cli(
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) =>
      execFile(
        process.execPath,
        [join(ROOT, 'dist/apps/console/src/cli.js'), ...args, '--json'],
        { env: { ...sys.env('console'), ...env }, cwd: ROOT, timeout: 120_000 },
        (err, out, errOut) => resolve({ code: err ? ((err.code as number) ?? 1) : 0, out, err: errOut }),
      ),
    );
  }

  async function adminSql(text: string): Promise<void> {
    const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(text);
    } finally {
      await admin.end();
    }
  }

  /** What an operator sees: contacts, deals, leads and peers, as the console API lists them. */
  async function consoleView(): Promise<Record<string, unknown>> {
    const view: Record<string, unknown> = {};
    for (const path of ['/v1/crm/contacts', '/v1/crm/deals', '/v1/crm/leads', '/v1/admin/peers']) {
      const res = await sys.consoleGet(`${path}${path.includes('admin') ? '' : '?limit=500'}`);
      expect(res.status).toBe(200);
      view[path] = res.body;
    }
    return view;
  }

  beforeAll(async () => {
    await sys.start(['gateway', 'website-connector', 'console']);
    await sys.cli(
      'peers',
      'create',
      '--id',
      'pbx-1',
      '--name',
      'PBX',
      '--kind',
      'telephony',
      '--scopes',
      'telephony.*',
    );
    await sys.sql(`INSERT INTO managers (name, extension) VALUES ('Maria', '101'), ('Oleg', '102')`);
    const orders = [order(), order(), order()];
    for (const o of orders) expect((await sys.post('/v1/website/orders', o)).status).toBe(202);
    for (let i = 0; i < 3; i++) {
      const lead = {
        kind: 'form',
        occurredAt: new Date().toISOString(),
        name: `Lead ${i}`,
        phone: `+7913555000${i}`,
        submissionId: `sub-${i}`,
      };
      expect((await sys.post('/v1/website/leads', lead)).status).toBe(202);
    }
    await eventually(async () => {
      const [{ deals, leads }] = await sys.sql<{ deals: number; leads: number }>(
        `SELECT (SELECT count(*)::int FROM deals) AS deals, (SELECT count(*)::int FROM leads) AS leads`,
      );
      return deals === 3 && leads >= 3;
    }, 60_000);
  }, 240_000);

  afterAll(async () => {
    await sys.destroy();
    await adminSql(`DROP DATABASE IF EXISTS ${restoredDb} WITH (FORCE)`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  let before: Record<string, unknown>;

  it('create writes an encrypted file with a manifest; verify checks it without a database', async () => {
    before = await consoleView();
    const created = await cli(['backup', 'create', file]);
    expect(created.err).toBe('');
    const manifest = JSON.parse(created.out);
    expect(manifest.tables).toMatchObject({ deals: 3, peers: 2 });
    expect(manifest.tables.access_log).toBeUndefined(); // not without --with-access-log
    expect(manifest.migrations.length).toBeGreaterThan(5);
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 19).toString()).toBe('SWITCHBOARD-BACKUP ');
    // Nothing of the data is readable in the file.
    expect((before['/v1/crm/contacts'] as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(3);
    expect(bytes.includes(Buffer.from('Anna Petrova'))).toBe(false);

    const verified = await cli(['backup', 'verify', file], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({
      ok: true,
      sha256: manifest.sha256,
      tables: manifest.tables,
    });
  });

  it('restore into a fresh database: the console shows the same contacts, deals, leads and peers', async () => {
    await adminSql(`CREATE DATABASE ${restoredDb}`);
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${restoredDb}`;
    restoredUrl = url.toString();
    const restored = await cli(['backup', 'restore', file], { DATABASE_URL: restoredUrl });
    expect(restored.err).toBe('');
    expect(JSON.parse(restored.out).restored).toMatchObject({ deals: 3, peers: 2 });

    await sys.app('console').kill();
    await sys.startApp('console', { DATABASE_URL: restoredUrl });
    const after = await consoleView();
    expect(after).toEqual(before);

    // Sequences continue after the restored ids: a new peer audit entry (serial id) does not collide.
    const created = await cli(['peers', 'update', 'pbx-1', '--name', 'PBX renamed'], {
      DATABASE_URL: restoredUrl,
    });
    expect(created.code).toBe(0);
  });

  it('refuses to restore into a database that holds data', async () => {
    const res = await cli(['backup', 'restore', file], { DATABASE_URL: restoredUrl });
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/only goes into an empty database.*has rows/);
  });

  it('a changed byte anywhere fails verify; so does a changed header', async () => {
    const size = readFileSync(file).length;
    for (const offset of [size - 1, size - 40, Math.floor(size / 2), 60]) {
      const tampered = join(dir, `tampered-${offset}`);
      copyFileSync(file, tampered);
      const bytes = readFileSync(tampered);
      bytes[offset] ^= 0x01;
      writeFileSync(tampered, bytes);
      const res = await cli(['backup', 'verify', tampered]);
      expect({ offset, code: res.code }).toEqual({ offset, code: 1 });
      expect(res.err).toMatch(/altered or damaged|does not open|not a Switchboard backup|malformed/i);
    }
  });

  it('a wrong master key fails clearly: a missing key id, or another key under the same id', async () => {
    const other = await cli(['backup', 'verify', file], {
      SWITCHBOARD_MASTER_KEYS: `k9:${randomBytes(32).toString('base64')}`,
    });
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/master key "k1", which is not in this keyring/);
    const same = await cli(['backup', 'verify', file], {
      SWITCHBOARD_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    });
    expect(same.code).toBe(1);
    expect(same.err).toMatch(/does not open with master key "k1"/);
  });
});
