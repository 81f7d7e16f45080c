import { validateContract } from '@switchboard/contracts';
import {
  CreatePeerDto,
  CredentialHasher,
  IssueCredentialDto,
  loadPepper,
  UpdatePeerDto,
} from '@switchboard/peer-auth';
import { loadKeyring, SecretBox } from '@switchboard/secrets';
import type { AppConfig } from '@switchboard/config';
import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import type { FlagValues, PeerSubcommand } from './cli-program';
import { createPeerAdmin } from './peer-admin.provider';

const OPERATOR = 'operator:cli';

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
/** `true`/`false`; anything else is passed on for the DTO to refuse. */
const bool = (v: string | undefined) => (v === 'true' ? true : v === 'false' ? false : v);

/** Flags -> the same DTO the console API validates, so both refuse the same input the same way. */
function peerFields(v: FlagValues): Record<string, unknown> {
  const s = (k: string) => v[k] as string | undefined;
  let signingSecret: string | null | undefined = s('signing-secret');
  if (v['signing-secret-stdin']) signingSecret = readFileSync(0, 'utf8').trim();
  if (v['clear-signing-secret']) signingSecret = null;
  const fields: Record<string, unknown> = {
    id: s('id'),
    name: s('name'),
    kind: s('kind'),
    provider: s('provider'),
    scopes: list(s('scopes')),
    ipAllowlist: list(s('ip-allowlist')),
    rateLimitPerMinute: s('rate-limit') === 'default' ? null : num(s('rate-limit')),
    status: s('status'),
    timezone: s('timezone'),
    testDeliveries: s('test-deliveries'),
    orderEncoding: s('order-encoding') === 'default' ? null : s('order-encoding'),
    allowUrlCredentials: bool(s('allow-url-credentials')),
    signingSecret,
    expiresInDays: num(s('expires-in-days')),
    outbound: outboundField(v),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** --outbound-url/--outbound-events/--outbound-secret(-stdin) -> `outbound`; --clear-outbound -> null. */
function outboundField(v: FlagValues): Record<string, unknown> | null | undefined {
  if (v['clear-outbound']) return null;
  const s = (k: string) => v[k] as string | undefined;
  const secret = v['outbound-secret-stdin'] ? readFileSync(0, 'utf8').trim() : s('outbound-secret');
  if (s('outbound-url') === undefined && s('outbound-events') === undefined && secret === undefined)
    return undefined;
  return { url: s('outbound-url'), eventTypes: list(s('outbound-events')), secret };
}

function positional(args: string[], i: number, what: string): string {
  if (!args[i]) throw new Error(`name the ${what}`);
  return args[i];
}

/** `peers create|list|show|update|rotate|revoke|audit`; `rest` are the positional arguments (ids). */
export async function peersCommand(
  ds: DataSource,
  config: AppConfig,
  sub: PeerSubcommand,
  rest: string[],
  values: FlagValues,
): Promise<unknown> {
  const admin = createPeerAdmin(ds, new CredentialHasher(loadPepper()), new SecretBox(loadKeyring()), config);
  const fields = peerFields(values);
  switch (sub) {
    case 'create':
      return admin.create(validateContract(CreatePeerDto, fields), OPERATOR);
    case 'list':
      return { items: await admin.list() };
    case 'show':
      return admin.get(positional(rest, 0, 'peer id'));
    case 'update': {
      const { id: _id, expiresInDays: _e, kind: _k, ...patch } = fields;
      return admin.update(positional(rest, 0, 'peer id'), validateContract(UpdatePeerDto, patch), OPERATOR);
    }
    case 'rotate': {
      const dto = validateContract(IssueCredentialDto, {
        expiresInDays: fields.expiresInDays,
        revokeOld: values['revoke-old'],
      });
      return admin.issueCredential(positional(rest, 0, 'peer id'), OPERATOR, {
        expiresInDays: dto.expiresInDays,
        revokeOld: dto.revokeOld,
      });
    }
    case 'revoke':
      return admin.revokeCredential(
        positional(rest, 0, 'peer id'),
        positional(rest, 1, 'credential id'),
        OPERATOR,
      );
    case 'audit':
      return { items: await admin.auditLog(rest[0] ?? null, Number(values.limit ?? 100)) };
  }
}

/** `secrets rewrap`: every stored secret re-encrypted under the newest master key. */
export async function secretsCommand(ds: DataSource, config: AppConfig): Promise<unknown> {
  const admin = createPeerAdmin(ds, new CredentialHasher(loadPepper()), new SecretBox(loadKeyring()), config);
  return admin.rewrapSigningSecrets(OPERATOR);
}
