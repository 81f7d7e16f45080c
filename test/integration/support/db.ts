import { dataSourceOptions } from '@switchboard/database';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

/**
 * A database of this test file's own: a copy of the run's migrated template, dropped after the file. Call at
 * the top of a describe: it registers the beforeAll/afterAll hooks and returns a getter for the DataSource.
 */
export function useIntegrationDb(): () => DataSource {
  const server = process.env.TEST_INTEGRATION_SERVER_URL;
  const template = process.env.TEST_INTEGRATION_TEMPLATE;
  const run = process.env.TEST_INTEGRATION_RUN;
  const name = `sb_it_${run}_${randomBytes(4).toString('hex')}`;
  let ds: DataSource | undefined;

  const admin = async <T>(f: (c: Client) => Promise<T>): Promise<T> => {
    const u = new URL(server!);
    u.pathname = '/postgres';
    const c = new Client({ connectionString: u.href });
    await c.connect();
    try {
      return await f(c);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    if (!server || !template) throw new Error('run through the jest project "integration" (its globalSetup)');
    await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
    const u = new URL(server);
    u.pathname = `/${name}`;
    ds = new DataSource(dataSourceOptions(u.href, 20, 'switchboard-integration'));
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });

  return () => {
    if (!ds) throw new Error('the database is ready only inside tests (beforeAll has not run)');
    return ds;
  };
}
