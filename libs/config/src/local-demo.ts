import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `npm start` keeps the local demo's material (admin token, pepper, master keys, stack URLs). */
export const DEMO_FILE = join('.data', 'demo.json');

/** Environment variable -> the demo.json field that stands in for it when the variable is unset. */
const DEMO_DEFAULTS: ReadonlyArray<{ name: string; field: string; unlessSet?: string }> = [
  { name: 'SWITCHBOARD_PEPPER', field: 'pepper', unlessSet: 'SWITCHBOARD_PEPPER_FILE' },
  { name: 'SWITCHBOARD_MASTER_KEYS', field: 'masterKeys', unlessSet: 'SWITCHBOARD_MASTER_KEYS_FILE' },
  { name: 'ADMIN_TOKEN', field: 'adminToken' },
  { name: 'DATABASE_URL', field: 'databaseUrl' },
  { name: 'AMQP_URL', field: 'amqpUrl' },
];

const isSet = (env: NodeJS.ProcessEnv, name: string | undefined): boolean =>
  name !== undefined && env[name] !== undefined && env[name] !== '';

/**
 * The operator CLI in a checkout where `npm start` runs the local demo: the settings `npm start` handed its apps
 * are read from `<root>/.data/demo.json` for every variable the environment leaves unset, so the commands the
 * banner prints work in a second terminal with no exports. Never in production, never over a set variable, and
 * only when that file exists (it is created by `npm start`, mode 600). `SWITCHBOARD_DEMO_FILE` names another
 * file. Returns the variables it filled in, for a notice.
 */
export function applyLocalDemoDefaults(env: NodeJS.ProcessEnv, root: string): string[] {
  if (env.NODE_ENV === 'production') return [];
  const file = isSet(env, 'SWITCHBOARD_DEMO_FILE') ? env.SWITCHBOARD_DEMO_FILE! : join(root, DEMO_FILE);
  const missing = DEMO_DEFAULTS.filter((d) => !isSet(env, d.name) && !isSet(env, d.unlessSet));
  if (!missing.length || !existsSync(file)) return [];
  let demo: Record<string, unknown>;
  try {
    demo = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); run npm start to recreate it`);
  }
  const applied: string[] = [];
  for (const { name, field } of missing) {
    const value = demo[field];
    if (typeof value === 'string' && value !== '') {
      env[name] = value;
      applied.push(name);
    }
  }
  return applied;
}
