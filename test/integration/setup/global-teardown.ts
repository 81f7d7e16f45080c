import { dropRunDatabases } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const { TEST_INTEGRATION_SERVER_URL: server, TEST_INTEGRATION_RUN: run } = process.env;
  if (server && run) await dropRunDatabases(server, run);
}
