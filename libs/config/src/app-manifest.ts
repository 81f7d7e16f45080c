import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One app of config/apps.json: the facts start scripts, tests, config defaults and docs read from one place. */
export interface AppManifestEntry {
  name: string;
  /** The config section holding the app's own listener (`<section>.port`). */
  configSection: string;
  port: number;
  portEnv: string;
  hostEnv?: string;
  metricsPort?: number;
  metricsPortEnv?: string;
  /** Config sections the app validates at start. */
  sections: string[];
  /** Routing keys its queue binds (connectors fed by the broker); empty for apps without a queue. */
  bindings: string[];
  health: { path: string; probes: string[] };
  /** Replicas under docker compose. */
  replicas: number;
  color: string;
}

const cache = new Map<string, AppManifestEntry[]>();

/** config/apps.json from `SWITCHBOARD_CONFIG_DIR` (or ./config), read once per directory. */
export function appManifest(configDir?: string): AppManifestEntry[] {
  const dir = resolve(configDir ?? process.env.SWITCHBOARD_CONFIG_DIR ?? join(process.cwd(), 'config'));
  let apps = cache.get(dir);
  if (!apps) {
    apps = (JSON.parse(readFileSync(join(dir, 'apps.json'), 'utf8')) as { apps: AppManifestEntry[] }).apps;
    cache.set(dir, apps);
  }
  return apps;
}

export function appEntry(name: string, configDir?: string): AppManifestEntry {
  const app = appManifest(configDir).find((a) => a.name === name);
  if (!app) throw new Error(`no app "${name}" in config/apps.json`);
  return app;
}
