import { resolve } from 'node:path';
import { loadConfig } from '@switchboard/config';
import { dataSourceOptions, migrate } from '@switchboard/database';
import { loadKeyring, SecretBox } from '@switchboard/secrets';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { BackupSubcommand, FlagValues } from '../cli-program';
import { createBackup, restoreBackup, verifyBackup } from './backup';

/** `backup create|verify|restore FILE`: the keyring from SWITCHBOARD_MASTER_KEYS(_FILE), the database from DATABASE_URL. */
export async function backupCommand(
  sub: BackupSubcommand,
  file: string,
  values: FlagValues,
): Promise<unknown> {
  const box = new SecretBox(loadKeyring());
  const path = resolve(file);
  if (sub === 'verify') return verifyBackup(path, box); // no database at all
  const config = loadConfig(process.env, ['database', 'log']);
  const db = new Client({ connectionString: config.database.url, application_name: 'switchboard-backup' });
  await db.connect();
  try {
    if (sub === 'create')
      return await createBackup(db, box, path, { withAccessLog: values['with-access-log'] === true });
    return await restoreBackup(db, box, path, async () => {
      const ds = new DataSource(dataSourceOptions(config.database.url, 2, 'switchboard-backup'));
      await ds.initialize();
      try {
        return await migrate(ds);
      } finally {
        await ds.destroy();
      }
    });
  } finally {
    await db.end();
  }
}
