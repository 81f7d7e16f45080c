import { execFileSync } from 'node:child_process';
import { ROOT } from './support/system';

/**
 * `npm start`'s banner (config/scripts/banner.mjs) in a real node process: with stdout piped, as in CI logs or
 * `npm start > file`, no secret is printed; the text says where they are stored instead.
 */
describe('npm start banner', () => {
  const demo = {
    adminToken: 'admin-token-SECRET-0123456789',
    wooSigningSecret: 'woo-signing-SECRET-abcdef',
    tokens: { 'demo-shop': 'sbp_shop_SECRET', 'demo-pbx': 'sbp_pbx_SECRET', 'demo-woo': 'sbp_woo_SECRET' },
  };
  const options = {
    apps: [
      { name: 'gateway', url: 'http://127.0.0.1:8080', metricsUrl: 'http://127.0.0.1:9080' },
      { name: 'console', url: 'http://127.0.0.1:8081', metricsUrl: 'http://127.0.0.1:9081' },
    ],
    demo,
    demoPeer: 'demo-shop',
    demoFile: '.data/demo.json',
    servers: [],
  };
  const run = (script: string): string =>
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('prints no secret when stdout is not a terminal, and says where they are', () => {
    const out = run(
      `import { printBanner } from './config/scripts/banner.mjs'; printBanner(${JSON.stringify(options)});`,
    );
    expect(out).toContain('Switchboard is up.');
    expect(out).not.toContain('SECRET');
    expect(out).toContain('.data/demo.json');
    expect(out).toContain('not printed');
    // The curls still work when pasted: the token is read from the file by the shell.
    expect(out).toContain(
      `Authorization: Bearer $(node -p "require('./.data/demo.json').tokens['demo-shop']")`,
    );
    expect(out).toContain('metrics http://127.0.0.1:9080/metrics');
  });

  it('prints the secrets for a terminal', () => {
    const out = run(
      `import { bannerLines } from './config/scripts/banner.mjs';` +
        `console.log(bannerLines({ ...${JSON.stringify(options)}, showSecrets: true }).join('\\n'));`,
    );
    for (const secret of [demo.adminToken, demo.wooSigningSecret, demo.tokens['demo-shop']])
      expect(out).toContain(secret);
  });
});
