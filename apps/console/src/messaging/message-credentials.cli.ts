import { readFileSync } from 'node:fs';
import {
  credentialProblems,
  MESSAGE_PROVIDERS,
  ProviderCredentials,
  type MessageProvider,
  type Sql,
} from '@switchboard/notifications';
import { loadKeyring, SecretBox } from '@switchboard/secrets';
import type { DataSource } from 'typeorm';
import { CliUsageError, type FlagValues } from '../cli-program';

export type MessageCredentialsSubcommand = 'set' | 'list' | 'remove' | 'rewrap';

/** TypeORM returns [rows, count] for UPDATE/DELETE; these statements are INSERT/SELECT only. */
const sqlOf = (ds: DataSource): Sql => ({ query: async (text, params) => ds.query(text, params) });

/**
 * `messaging credentials set|list|remove|rewrap`: Switchboard's own WhatsApp and SMS.ru credentials, stored sealed
 * under the keyring. `set` reads the JSON from --file (`-` for standard input) so no secret sits in argv or the
 * shell history; nothing ever prints them back.
 */
export async function messageCredentialsCommand(
  ds: DataSource,
  sub: MessageCredentialsSubcommand,
  args: string[],
  values: FlagValues,
): Promise<unknown> {
  const sql = sqlOf(ds);
  if (sub === 'list') {
    const rows = await sql.query<{ provider: string; updated_at: Date }>(
      `SELECT provider, updated_at FROM message_provider_credentials ORDER BY provider`,
    );
    return { providers: rows.map((r) => ({ provider: r.provider, updatedAt: r.updated_at })) };
  }
  const box = new SecretBox(loadKeyring());
  if (sub === 'rewrap') {
    const rows = await sql.query<{ provider: MessageProvider; sealed: string }>(
      `SELECT provider, sealed FROM message_provider_credentials`,
    );
    let rewrapped = 0;
    for (const r of rows) {
      const aad = `message-provider:${r.provider}:credentials`;
      if (!box.needsRewrap(r.sealed)) continue;
      await sql.query(
        `UPDATE message_provider_credentials SET sealed = $2, updated_at = now() WHERE provider = $1`,
        [r.provider, box.rewrap(r.sealed, aad)],
      );
      rewrapped += 1;
    }
    return { rewrapped, keyId: box.primaryKeyId };
  }
  const provider = args[0];
  if (!MESSAGE_PROVIDERS.includes(provider as MessageProvider))
    throw new CliUsageError(`name a provider: ${MESSAGE_PROVIDERS.join(', ')} (got "${provider}")`);
  if (sub === 'remove') {
    const existed = await sql.query(`SELECT 1 FROM message_provider_credentials WHERE provider = $1`, [
      provider,
    ]);
    await sql.query(`DELETE FROM message_provider_credentials WHERE provider = $1`, [provider]);
    return { provider, removed: existed.length > 0 };
  }
  const file = values.file;
  if (typeof file !== 'string') throw new CliUsageError('--file <path> is required (- for standard input)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
  } catch (err) {
    throw new CliUsageError(`--file: not readable JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const problems = credentialProblems(provider, parsed);
  if (problems.length) throw new CliUsageError(`${provider} credentials: ${problems.join('; ')}`);
  await ProviderCredentials.set(sql, box, provider as MessageProvider, parsed as object);
  return { provider, stored: true, keyId: box.primaryKeyId };
}
