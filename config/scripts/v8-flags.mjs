// V8 heap sizing for every app (gateway, connectors, console), wherever it is started: config/scripts/start.mjs,
// test/support/processes.mjs (e2e, bench, fuzz, faults) and the Docker image (config/docker/Dockerfile, same
// values). Left to its defaults V8 grows the young generation and collects old space lazily: a gateway under
// 50-100 connections reached 365 MB RSS without holding more live data than at rest. A 16 MB semi-space and a
// 160 MB old-space cap keep each app near 150-180 MB (issue 20's budget: 200 MB) at a small GC cost; see the README
// (Performance & reliability) for the measurement. The values live in v8-flags.json so that the e2e harness
// (test/e2e/support/system.ts, CommonJS under jest) reads the very same list.
import { readFileSync } from 'node:fs';

export const APP_V8_FLAGS = JSON.parse(readFileSync(new URL('./v8-flags.json', import.meta.url), 'utf8'));

const APP_MAIN = /(^|[\\/])dist[\\/]apps[\\/][^\\/]+[\\/]src[\\/]main\.js$/;

/** `node` argv with APP_V8_FLAGS before an app's main.js, unless the caller sized the heap itself. */
export function withAppV8Flags(argv) {
  const main = argv.findIndex((a) => APP_MAIN.test(a));
  if (
    main < 0 ||
    argv.some((a) => a.startsWith('--max-old-space-size') || a.startsWith('--max-semi-space-size'))
  )
    return argv;
  return [...argv.slice(0, main), ...APP_V8_FLAGS, ...argv.slice(main)];
}

/**
 * Process environment every app starts with (values the caller set win). MALLOC_MMAP_THRESHOLD_: glibc serves an
 * allocation of 1 MiB or more with its own mapping, returned to the system when freed. Left dynamic, the threshold
 * rises to the largest block freed so far (a 4 MB upload chunk), after which such blocks come from the heap and
 * stay in RSS once freed: a 100,000-offer 1C import took the gateway to 312-327 MB, with it 222-233 MB. 64 KiB
 * saved as much but cost ~15 % more CPU (a mapping and page faults per 256 KiB piece). Also in the Docker image
 * and the e2e harness (they read app-env.json).
 */
export const APP_ENV = JSON.parse(readFileSync(new URL('./app-env.json', import.meta.url), 'utf8'));

/** `env` with APP_ENV under it when `argv` starts an app. */
export function withAppEnv(argv, env) {
  return argv.some((a) => APP_MAIN.test(a)) ? { ...APP_ENV, ...env } : env;
}
