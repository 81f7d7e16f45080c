import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { SecretBox } from '@switchboard/secrets';
import type { Client } from 'pg';
import { BackupError, decryptor, encryptor } from './backup-file';

/**
 * `backup create | verify | restore`: a consistent, encrypted dump of the database's own data: CRM records,
 * peers and their credentials (hashes), configuration (managers, rules, alerts), the inbox markers that keep
 * processing effectively-once, and every table later migrations add (tables are read from the catalogue, not
 * listed here). The interface access log is left out unless asked for: it is large, and exported on its own.
 *
 * The dump (inside the encryption, see backup-file.ts) is gzip'd text, one record per line:
 *   T {"table":"contacts","columns":[…]}      a table follows
 *   R {…}                                      one row, as PostgreSQL's to_jsonb of it
 *   M {manifest}                               last line: migrations, row counts, sha256 of every line above
 */
const ACCESS_LOG_TABLES = /^access_log/;
/** Migrations are the schema, not data: restore runs them, and the manifest names the newest. */
const SCHEMA_TABLE = 'schema_migrations';
const FETCH_ROWS = 2000;
const INSERT_ROWS = 1000;

export interface BackupManifest {
  format: 'switchboard-backup';
  version: 1;
  createdAt: string;
  /** Applied migrations, oldest first; the last is the schema version. */
  migrations: string[];
  withAccessLog: boolean;
  tables: Record<string, number>;
  rows: number;
  sha256: string;
}

interface TableInfo {
  name: string;
  columns: string[];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The tables holding data (a partitioned table once, never its partitions), parents before children. */
async function dataTables(db: Client, withAccessLog: boolean): Promise<TableInfo[]> {
  const { rows } = await db.query<{ name: string; columns: string[] }>(`
    SELECT c.relname AS name,
           array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '') AS columns
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     GROUP BY c.relname`);
  const tables = rows
    .filter((t) => t.name !== SCHEMA_TABLE && (withAccessLog || !ACCESS_LOG_TABLES.test(t.name)))
    .map((t) => ({ name: t.name, columns: t.columns }));
  const { rows: edges } = await db.query<{ child: string; parent: string }>(`
    SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent
      FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`);
  return foreignKeyOrder(tables, edges);
}

/**
 * Parents before children where the foreign keys allow it (a cycle, such as tasks <-> call_logs, is broken
 * arbitrarily: restore re-creates the foreign keys only after every row is in). Ties by name, so the order,
 * and the dump, is stable.
 */
export function foreignKeyOrder<T extends { name: string }>(
  tables: T[],
  edges: Array<{ child: string; parent: string }>,
): T[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const parents = new Map(tables.map((t) => [t.name, new Set<string>()]));
  for (const e of edges)
    if (e.child !== e.parent && byName.has(e.parent)) parents.get(e.child)?.add(e.parent);
  const out: T[] = [];
  const left = new Set([...byName.keys()].sort());
  while (left.size) {
    const ready = [...left].find((n) => [...parents.get(n)!].every((p) => !left.has(p))) ?? [...left][0];
    left.delete(ready);
    out.push(byName.get(ready)!);
  }
  return out;
}

/** Creates FILE: written to FILE.partial and renamed when complete, so FILE is never half a backup. */
export async function createBackup(
  db: Client,
  box: SecretBox,
  file: string,
  opts: { withAccessLog: boolean },
): Promise<BackupManifest & { file: string }> {
  // One snapshot for every table: rows written meanwhile are either wholly in or wholly out.
  await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const partial = `${file}.partial`;
  try {
    const tables = await dataTables(db, opts.withAccessLog);
    const migrations = (
      await db.query<{ name: string }>(`SELECT name FROM ${SCHEMA_TABLE} ORDER BY timestamp, id`)
    ).rows.map((r) => r.name);
    const manifest: BackupManifest = {
      format: 'switchboard-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      migrations,
      withAccessLog: opts.withAccessLog,
      tables: {},
      rows: 0,
      sha256: '',
    };
    const hash = createHash('sha256');
    async function* lines(): AsyncGenerator<string> {
      for (const table of tables) {
        const head = `T ${JSON.stringify({ table: table.name, columns: table.columns })}\n`;
        hash.update(head);
        yield head;
        let count = 0;
        const cursor = `backup_${table.name}`;
        await db.query(
          `DECLARE ${ident(cursor)} NO SCROLL CURSOR FOR SELECT to_jsonb(t)::text AS j FROM ${ident(table.name)} t`,
        );
        for (;;) {
          const { rows } = await db.query<{ j: string }>(`FETCH ${FETCH_ROWS} FROM ${ident(cursor)}`);
          if (!rows.length) break;
          let chunk = '';
          for (const r of rows) chunk += `R ${r.j}\n`;
          hash.update(chunk);
          count += rows.length;
          yield chunk;
        }
        await db.query(`CLOSE ${ident(cursor)}`);
        manifest.tables[table.name] = count;
        manifest.rows += count;
      }
      manifest.sha256 = hash.digest('hex');
      yield `M ${JSON.stringify(manifest)}\n`;
    }
    const { headerLine, encrypt } = encryptor(box);
    const out = createWriteStream(partial, { mode: 0o600 });
    out.write(headerLine);
    await pipeline(Readable.from(lines()), createGzip(), encrypt, out);
    await rename(partial, file);
    return { file, ...manifest };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  } finally {
    await db.query('ROLLBACK').catch(() => undefined);
  }
}

type DumpRecord = { kind: 'table'; table: string; columns: string[] } | { kind: 'row'; json: string };

/**
 * Reads a backup through: every record to `onRecord` (awaited: the file is read no faster than it is used),
 * then checks the manifest (counts, checksum) and the GCM tag. Throws BackupError for anything untrustworthy.
 */
async function readBackup(
  file: string,
  box: SecretBox,
  onRecord: (r: DumpRecord) => Promise<void> | void,
): Promise<BackupManifest> {
  const { plain, authentic } = await decryptor(file, box);
  const gunzip = createGunzip();
  const text = plain.pipe(gunzip);
  plain.on('error', (err) => gunzip.destroy(err));
  const hash = createHash('sha256');
  const counts: Record<string, number> = {};
  let table: string | null = null;
  let manifest: BackupManifest | null = null;
  // What the consumer throws (a database error while restoring) is its own, not a sign of a damaged file.
  let consumerError: { error: unknown } | null = null;
  const deliver = async (r: DumpRecord) => {
    try {
      await onRecord(r);
    } catch (error) {
      consumerError = { error };
      throw error;
    }
  };
  try {
    for await (const line of createInterface({ input: text, crlfDelay: Infinity })) {
      if (manifest) throw new Error('data after the manifest');
      const kind = line.slice(0, 2);
      const body = line.slice(2);
      if (kind === 'M ') {
        manifest = JSON.parse(body) as BackupManifest;
        continue;
      }
      hash.update(`${line}\n`);
      if (kind === 'T ') {
        const head = JSON.parse(body) as { table: string; columns: string[] };
        table = head.table;
        counts[table] = 0;
        await deliver({ kind: 'table', table, columns: head.columns });
      } else if (kind === 'R ' && table) {
        counts[table]++;
        await deliver({ kind: 'row', json: body });
      } else throw new Error('an unknown record');
    }
  } catch (err) {
    if (consumerError) throw (consumerError as { error: unknown }).error;
    if (err instanceof BackupError) throw err;
    authentic(); // when the whole file was read, its tag says best what is wrong
    // A tampered file usually breaks gzip or a line before the tag is reached: the tag is what tells.
    throw new BackupError(
      'BACKUP_TAMPERED',
      `The backup does not decrypt to a valid dump (${(err as Error).message}): it was altered or damaged after it was written.`,
    );
  }
  authentic();
  if (!manifest)
    throw new BackupError('BACKUP_TAMPERED', 'The backup ends without its manifest: it is truncated.');
  const sha256 = hash.digest('hex');
  if (sha256 !== manifest.sha256 || JSON.stringify(counts) !== JSON.stringify(manifest.tables))
    throw new BackupError(
      'BACKUP_TAMPERED',
      'The dump does not match its manifest (checksum or row counts).',
    );
  return manifest;
}

/** Decrypts and checks a backup without any database. */
export async function verifyBackup(file: string, box: SecretBox): Promise<{ ok: true } & BackupManifest> {
  return { ok: true, ...(await readBackup(file, box, () => undefined)) };
}

/**
 * Restores into an empty database: checks the whole file first (nothing is written from a file that fails),
 * runs the migrations, then loads every table in one transaction with foreign keys and user triggers set aside
 * (so cycles load and no trigger fires twice), re-creates the foreign keys (which checks every reference) and
 * moves each sequence past the restored ids. Any failure rolls everything back.
 */
export async function restoreBackup(
  db: Client,
  box: SecretBox,
  file: string,
  migrate: () => Promise<string[]>,
): Promise<{ restored: Record<string, number>; rows: number; migrations: string[] }> {
  const manifest = await readBackup(file, box, () => undefined);
  const { rows: populated } = await db.query<{ name: string }>(`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname <> '${SCHEMA_TABLE}'`);
  for (const { name } of populated) {
    const { rows } = await db.query(`SELECT 1 FROM ${ident(name)} LIMIT 1`);
    if (rows.length)
      throw new BackupError(
        'BACKUP_REFUSED',
        `Restore only goes into an empty database, and table "${name}" has rows. Create a new database ` +
          '(createdb …), point DATABASE_URL at it, and run restore again.',
      );
  }
  const applied = await migrate();
  const known = new Set(
    (await db.query<{ name: string }>(`SELECT name FROM ${SCHEMA_TABLE}`)).rows.map((r) => r.name),
  );
  const newer = manifest.migrations.filter((m) => !known.has(m));
  if (newer.length)
    throw new BackupError(
      'BACKUP_REFUSED',
      `The backup was made by a newer Switchboard (migrations ${newer.join(', ')} are unknown here): restore it with that version.`,
    );
  const current = new Map((await dataTables(db, true)).map((t) => [t.name, new Set(t.columns)]));
  const { rows: foreignKeys } = await db.query<{ tbl: string; name: string; def: string }>(`
    SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def
      FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`);

  await db.query('BEGIN');
  try {
    for (const fk of foreignKeys)
      await db.query(`ALTER TABLE ${ident(fk.tbl)} DROP CONSTRAINT ${ident(fk.name)}`);
    let target: { table: string; columns: string[] } | null = null;
    let batch: string[] = [];
    const restored: Record<string, number> = {};
    const flush = async () => {
      if (!target || !batch.length) return;
      const cols = target.columns.map(ident).join(', ');
      await db.query(
        `INSERT INTO ${ident(target.table)} (${cols}) OVERRIDING SYSTEM VALUE
         SELECT ${cols} FROM jsonb_populate_recordset(NULL::${ident(target.table)}, $1::jsonb)`,
        [`[${batch.join(',')}]`],
      );
      restored[target.table] = (restored[target.table] ?? 0) + batch.length;
      batch = [];
    };
    await readBackup(file, box, async (record) => {
      if (record.kind === 'row') {
        batch.push(record.json);
        if (batch.length >= INSERT_ROWS) await flush();
        return;
      }
      await flush();
      const columns = current.get(record.table);
      if (!columns)
        throw new BackupError(
          'BACKUP_REFUSED',
          `The backup holds table "${record.table}", which this schema lacks.`,
        );
      // Rows the migrations seeded give way to the backup's; no user trigger reacts to the load.
      await db.query(`DELETE FROM ${ident(record.table)}`);
      await db.query(`ALTER TABLE ${ident(record.table)} DISABLE TRIGGER USER`);
      // Columns added since the backup keep their defaults; generated columns are computed again.
      target = { table: record.table, columns: record.columns.filter((c) => columns.has(c)) };
      restored[record.table] = 0;
    });
    await flush();
    for (const table of Object.keys(restored))
      await db.query(`ALTER TABLE ${ident(table)} ENABLE TRIGGER USER`);
    for (const fk of foreignKeys)
      await db.query(`ALTER TABLE ${ident(fk.tbl)} ADD CONSTRAINT ${ident(fk.name)} ${fk.def}`);
    await resetSequences(db);
    await db.query('COMMIT');
    return { restored, rows: manifest.rows, migrations: applied };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Every sequence owned by a column (serial or identity) continues after the largest restored value. */
async function resetSequences(db: Client): Promise<void> {
  const { rows } = await db.query<{ tbl: string; col: string; seq: string }>(`
    SELECT t.relname AS tbl, a.attname AS col, s.oid::regclass::text AS seq
      FROM pg_class s
      JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
      JOIN pg_class t ON t.oid = d.refobjid
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
     WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace`);
  for (const r of rows)
    await db.query(
      `SELECT setval($1::regclass, COALESCE((SELECT max(${ident(r.col)}) FROM ${ident(r.tbl)}), 1),
                     (SELECT max(${ident(r.col)}) FROM ${ident(r.tbl)}) IS NOT NULL)`,
      [r.seq],
    );
}
