import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeVersion } from './health';

/** The Node runtime package.json pins (devDependencies.node) and every npm script runs on. */
const ROOT = join(__dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  engines: { node: string };
};
const pinned = pkg.devDependencies.node;
const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

describe('runtime', () => {
  it('pins an exact supported LTS Node (24, 22 at least)', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(major(pinned)).toBeGreaterThanOrEqual(22);
  });

  it('keeps engines, @types/node and the Docker images on the same major', () => {
    expect(major(pkg.engines.node.replace(/^>=/, ''))).toBe(major(pinned));
    expect(major(pkg.devDependencies['@types/node'].replace(/^[\^~]/, ''))).toBe(major(pinned));
    const dockerfile = readFileSync(join(ROOT, 'config/docker/Dockerfile'), 'utf8');
    const images = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(images.length).toBeGreaterThan(0);
    expect(new Set(images)).toEqual(new Set([major(pinned)]));
  });

  // Fails under the machine's own Node: run tests through npm (`npm test`, `npm run test:unit -- <path>`),
  // which puts node_modules/.bin (the pinned runtime) first on PATH. `npx jest` runs on the system Node.
  it('runs the tests on the pinned runtime', () => {
    expect(process.versions.node).toBe(pinned);
    expect(major(runtimeVersion().node)).toBeGreaterThanOrEqual(22);
  });
});
