// The integration tier: real PostgreSQL with the real migrations, no app processes. Reuses the e2e stack
// helper (env URLs, Docker or local servers), creates a throwaway template database migrated once per run;
// each test file copies it (CREATE DATABASE ... TEMPLATE, a file copy: fast) and drops its copy when done.
import { register } from 'tsconfig-paths';
import { resolve } from 'node:path';
import { Client } from 'pg';

const ROOT = resolve(__dirname, '../../..');

export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  const { ensureStack, createDatabase } = (await import(`${ROOT}/config/stack/stack.mjs`)) as {
    ensureStack: (o: { root: string; log: (m: string) => void }) => Promise<{ databaseUrl: string }>;
    createDatabase: (url: string, name: string) => Promise<string>;
  };
  const stack = await ensureStack({ root: ROOT, log: (m) => process.stderr.write(`[stack] ${m}\n`) });
  const runId = `${Date.now().toString(36)}_${process.pid}`;
  const template = `sb_it_${runId}_tpl`;
  const url = await createDatabase(stack.databaseUrl, template);
  // The real migrations, from the sources (no build needed): map @switchboard/* like tsconfig does.
  register({ baseUrl: ROOT, paths: { '@switchboard/*': ['libs/*/src'] } });
  const { DataSource } = await import('typeorm');
  const { dataSourceOptions, migrate } = await import(`${ROOT}/libs/database/src/data-source`);
  const ds = new DataSource(dataSourceOptions(url, 2, 'switchboard-integration-setup'));
  try {
    await ds.initialize();
    await migrate(ds); // holds one connection for its lock, migrates on the other
  } catch (e) {
    // Jest skips globalTeardown when setup fails: leave no template behind.
    await ds.destroy().catch(() => undefined);
    await dropRunDatabases(stack.databaseUrl, runId);
    throw e;
  }
  await ds.destroy();
  process.env.TEST_INTEGRATION_SERVER_URL = stack.databaseUrl;
  process.env.TEST_INTEGRATION_TEMPLATE = template;
  process.env.TEST_INTEGRATION_RUN = runId;
}

/** Drops the template and every copy of this run (also the ones a crashed file left behind). */
export async function dropRunDatabases(serverUrl: string, runId: string): Promise<void> {
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.href });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname DESC`,
      [`sb_it_${runId}_%`],
    );
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
