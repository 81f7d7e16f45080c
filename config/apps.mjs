// The one list of apps (config/apps.json) for Node scripts: npm start, bench, faults, fuzz. TypeScript reads the
// same file through @switchboard/config appManifest(). Node built-ins only: start.mjs runs before anything else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** @typedef {{ name: string, configSection: string, port: number, portEnv: string, hostEnv?: string,
 *   metricsPort?: number, metricsPortEnv?: string, sections: string[], bindings: string[],
 *   health: { path: string, probes: string[] }, replicas: number, color: string }} AppEntry */

/** @type {AppEntry[]} */
export const APPS = JSON.parse(readFileSync(join(import.meta.dirname, 'apps.json'), 'utf8')).apps;

/** The entry of one app; throws on an unknown name so a typo fails loudly. */
export function appEntry(name) {
  const app = APPS.find((a) => a.name === name);
  if (!app) throw new Error(`no app "${name}" in config/apps.json (${APPS.map((a) => a.name).join(', ')})`);
  return app;
}

/** Env that clears every app's port variables (a process started for one app must not inherit another's). */
export const PORT_ENV_NAMES = APPS.flatMap((a) => [a.portEnv, a.metricsPortEnv].filter(Boolean));
