// Child processes for the bench, fuzz and faults tools: an app (or script) spawned with its output in a log
// file, waited for until its /health answers, and stopped.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';

import { setTimeout as sleep } from 'node:timers/promises';
import { withAppEnv, withAppV8Flags } from '../../config/scripts/v8-flags.mjs';
export { sleep };

const handedOut = new Set();
/**
 * A TCP port free on loopback right now (the OS picks it) and not handed out before by this process: the
 * kernel may offer the same free port twice, and two apps on one port fail or answer for each other.
 */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** `node ...argv` with exactly `env` (and an app's APP_ENV under it); stdout and stderr go to `logFile` (appended with `append`). */
export function spawnLogged(argv, { env, cwd, logFile, append = false }) {
  const out = createWriteStream(logFile, { flags: append ? 'a' : 'w' });
  const proc = spawn(process.execPath, withAppV8Flags(argv), {
    env: withAppEnv(argv, env),
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.pipe(out);
  proc.stderr.pipe(out);
  return proc;
}

/** Resolves once `${baseUrl}/health` answers 200; throws if the process ends first or time runs out. */
export async function waitHealthy(proc, baseUrl, { name, logFile, timeoutMs = 60_000 }) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`${name} exited at start; see ${logFile}`);
    const ok = await fetch(`${baseUrl}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return proc;
  }
  throw new Error(`${name} not healthy within ${timeoutMs / 1000} s; see ${logFile}`);
}

/** SIGTERM, and wait until the process is gone (or `graceMs` passed), so the next step has the CPU to itself. */
export async function stopProcess(proc, graceMs = 10_000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([exited, sleep(graceMs)]);
}
