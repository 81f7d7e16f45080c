import { Injectable } from '@nestjs/common';
import { argon2id, argon2Verify } from 'hash-wasm';
import { randomBytes } from 'node:crypto';

/**
 * argon2id with the OWASP Password Storage Cheat Sheet's second recommended setting: m = 19 MiB (19456 KiB),
 * t = 2, p = 1 (about 120 ms here). hash-wasm (WebAssembly) rather than the native `argon2` package, whose
 * prebuilt binary crashes (SIGSEGV) when loaded on the project's machines. Output is the standard PHC string
 * (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), so parameters can be raised later and old hashes still verify.
 */
export const ARGON2_PARAMS = { memorySize: 19456, iterations: 2, parallelism: 1, hashLength: 32 } as const;

@Injectable()
export class PasswordHasher {
  hash(password: string): Promise<string> {
    return argon2id({ password, salt: randomBytes(16), ...ARGON2_PARAMS, outputType: 'encoded' });
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    if (!encoded.startsWith('$argon2id$')) return false;
    return argon2Verify({ password, hash: encoded }).catch(() => false);
  }
}
