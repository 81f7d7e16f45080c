import { Logger } from '@nestjs/common';
import { AppConfig } from '@switchboard/config';
import { CredentialHasher, loadPepper } from '@switchboard/peer-auth';
import { loadKeyring, SecretBox } from '@switchboard/secrets';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { FlagValues } from '../cli-program';
import { OperatorAccounts } from './operator-accounts.service';
import type { OperatorRole } from './operator';
import { OperatorsRepository } from './operators.repository';
import { PasswordHasher } from './password-hasher';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `operators create|list`: the same checks as POST /v1/admin/operators. Without --password-stdin a random
 * one-time password is printed (once) and must be changed at the first sign-in, so no password sits in the
 * shell history.
 */
export async function operatorsCommand(
  ds: DataSource,
  config: AppConfig,
  sub: 'create' | 'list',
  values: FlagValues,
): Promise<unknown> {
  // The output is JSON on stdout: Nest's log lines (stdout) would break it; errors still go to stderr.
  Logger.overrideLogger(['error']);
  const accounts = new OperatorAccounts(
    new OperatorsRepository(ds),
    new PasswordHasher(),
    new CredentialHasher(loadPepper()),
    new SecretBox(loadKeyring()),
    config,
    ds,
  );
  if (sub === 'list') return { operators: await accounts.list() };
  const email = String(values.email ?? '');
  const generated = !values['password-stdin'];
  const password = generated ? `${randomBytes(18).toString('base64url')}` : await readStdin();
  const operator = await accounts.create({
    email,
    name: String(values.name ?? email.split('@')[0] ?? ''),
    role: String(values.role ?? '') as OperatorRole,
    managerId: typeof values['manager-id'] === 'string' ? values['manager-id'] : null,
    password,
    mustChangePassword: generated,
  });
  return generated ? { operator, oneTimePassword: password, mustChangePassword: true } : { operator };
}
