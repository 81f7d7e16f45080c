import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyLocalDemoDefaults } from './local-demo';

const DEMO = {
  adminToken: 'admin-demo',
  pepper: 'cGVwcGVy',
  masterKeys: 'demo1:a2V5',
  databaseUrl: 'postgres://u:p@127.0.0.1:1/db',
  amqpUrl: 'amqp://g:g@127.0.0.1:2',
};

function checkout(demo: unknown = DEMO): string {
  const root = mkdtempSync(join(tmpdir(), 'sb-demo-'));
  mkdirSync(join(root, '.data'));
  writeFileSync(join(root, '.data/demo.json'), typeof demo === 'string' ? demo : JSON.stringify(demo));
  return root;
}

describe('applyLocalDemoDefaults', () => {
  it('fills every unset variable from the checkout demo.json npm start wrote', () => {
    const env: NodeJS.ProcessEnv = { NODE_ENV: 'development' };
    expect(applyLocalDemoDefaults(env, checkout())).toEqual([
      'SWITCHBOARD_PEPPER',
      'SWITCHBOARD_MASTER_KEYS',
      'ADMIN_TOKEN',
      'DATABASE_URL',
      'AMQP_URL',
    ]);
    expect(env).toMatchObject({
      SWITCHBOARD_PEPPER: DEMO.pepper,
      SWITCHBOARD_MASTER_KEYS: DEMO.masterKeys,
      ADMIN_TOKEN: DEMO.adminToken,
      DATABASE_URL: DEMO.databaseUrl,
      AMQP_URL: DEMO.amqpUrl,
    });
  });

  it('never overrides what the environment sets, a *_FILE variant included', () => {
    const env: NodeJS.ProcessEnv = {
      SWITCHBOARD_PEPPER_FILE: '/run/pepper',
      DATABASE_URL: 'postgres://mine',
    };
    applyLocalDemoDefaults(env, checkout());
    expect(env.SWITCHBOARD_PEPPER).toBeUndefined();
    expect(env.DATABASE_URL).toBe('postgres://mine');
    expect(env.SWITCHBOARD_MASTER_KEYS).toBe(DEMO.masterKeys);
  });

  it('does nothing in production or without a demo file, and names a broken one', () => {
    const prod: NodeJS.ProcessEnv = { NODE_ENV: 'production' };
    expect(applyLocalDemoDefaults(prod, checkout())).toEqual([]);
    expect(prod.SWITCHBOARD_PEPPER).toBeUndefined();
    expect(applyLocalDemoDefaults({}, mkdtempSync(join(tmpdir(), 'sb-none-')))).toEqual([]);
    expect(() => applyLocalDemoDefaults({}, checkout('{oops'))).toThrow(/demo.json is not valid JSON/);
  });

  it('reads SWITCHBOARD_DEMO_FILE when set', () => {
    const root = checkout();
    const env: NodeJS.ProcessEnv = { SWITCHBOARD_DEMO_FILE: join(root, '.data/demo.json') };
    applyLocalDemoDefaults(env, '/nonexistent');
    expect(env.ADMIN_TOKEN).toBe(DEMO.adminToken);
  });
});
