import 'reflect-metadata';
import { loadConfig } from '@switchboard/config';
import { dataSourceOptions, migrate } from '@switchboard/database';
import { DataSource } from 'typeorm';

/**
 * Operator commands that need no running app: `migrate`, `seed-demo`. Output is JSON with --json, so scripts
 * (npm start, CI) can read it; exit code 0 on success, 1 with a readable message otherwise.
 */
const DEMO_MANAGERS = [
  { name: 'Maria Ivanova', email: 'maria@demo.switchboard', extension: '101' },
  { name: 'Oleg Smirnov', email: 'oleg@demo.switchboard', extension: '102' },
  { name: 'Irina Kuznetsova', email: 'irina@demo.switchboard', extension: '103' },
];

async function withDataSource<T>(fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env, ['database', 'log']);
  const ds = new DataSource(dataSourceOptions(config.database.url, 2, 'switchboard-cli'));
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

const commands: Record<string, () => Promise<unknown>> = {
  migrate: () => withDataSource(async (ds) => ({ applied: await migrate(ds) })),
  'seed-demo': () =>
    withDataSource(async (ds) => {
      await migrate(ds);
      // Idempotent: managers are keyed by extension.
      const rows: Array<{ id: string; name: string; extension: string }> = await ds.query(
        `INSERT INTO managers (name, email, extension)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT (extension) WHERE extension IS NOT NULL DO UPDATE SET name = EXCLUDED.name
         RETURNING id, name, extension`,
        [
          DEMO_MANAGERS.map((m) => m.name),
          DEMO_MANAGERS.map((m) => m.email),
          DEMO_MANAGERS.map((m) => m.extension),
        ],
      );
      return { managers: rows };
    }),
};

async function main(): Promise<void> {
  const [name, ...flags] = process.argv.slice(2);
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(`usage: cli <${Object.keys(commands).join('|')}> [--json]`);
    process.exit(2);
  }
  const result = await command();
  console.log(flags.includes('--json') ? JSON.stringify(result) : result);
}

main().catch((err: Error) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
