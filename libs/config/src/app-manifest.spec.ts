import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONNECTORS } from '@switchboard/contracts';
import { appManifest } from './app-manifest';
import { loadConfig } from './load-config';

const ROOT = join(__dirname, '../../..');
const apps = appManifest(join(ROOT, 'config'));

/**
 * docker-compose.yml, the topology's connector list and the README cannot read config/apps.json themselves;
 * these checks make a drift from it a failing test rather than a surprise in production.
 */
describe('config/apps.json, the one list of apps', () => {
  it('names each app once, with a built entry point folder under apps/', () => {
    const names = apps.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(() => readFileSync(join(ROOT, 'apps', n, 'src/main.ts'))).not.toThrow();
  });

  it('gives every app its port as the config default and its env var as the override', () => {
    const env = { SWITCHBOARD_CONFIG_DIR: join(ROOT, 'config') };
    const config = loadConfig(env, ['log']) as unknown as Record<
      string,
      { port: number; metricsPort?: number }
    >;
    for (const a of apps) {
      expect(config[a.configSection].port).toBe(a.port);
      expect(config[a.configSection].metricsPort).toBe(a.metricsPort);
      const overridden = loadConfig({ ...env, [a.portEnv]: '1234' }, ['log']) as unknown as typeof config;
      expect(overridden[a.configSection].port).toBe(1234);
    }
  });

  it('binds the same routing keys as the topology (CONNECTORS)', () => {
    const fromManifest = Object.fromEntries(
      apps.filter((a) => a.bindings.length).map((a) => [a.name, { bindings: a.bindings }]),
    );
    expect(fromManifest).toEqual(CONNECTORS);
  });

  it('matches docker-compose.yml: one service per app, its port probed, its replicas', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    // Top-level services are the two-space-indented keys; a block ends at the next one.
    const blocks = new Map(
      [...compose.matchAll(/^ {2}([a-z-]+):\n((?: {4}.*\n|\s*\n)*)/gm)].map((m) => [m[1], m[2]]),
    );
    for (const a of apps) {
      const svc = blocks.get(a.name);
      expect(svc).toBeDefined();
      expect(svc).toContain(`dist/apps/${a.name}/src/main.js`);
      expect(svc).toContain(`127.0.0.1:${a.port}${a.health.path}`);
      expect(Number(/replicas: (\d+)/.exec(svc!)?.[1] ?? 1)).toBe(a.replicas);
    }
  });

  it('is documented: the README names every app and its port variables', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const a of apps) {
      expect(readme).toContain(`apps/${a.name}`);
      expect(readme).toContain(a.portEnv);
      expect(readme).toContain(a.metricsPortEnv ?? a.portEnv);
    }
  });
});
