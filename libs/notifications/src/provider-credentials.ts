import { Injectable } from '@nestjs/common';
import { SecretBox } from '@switchboard/secrets';
import type { Sql } from './notifications.db';
import { NotificationsDb } from './notifications.db';

export interface WhatsAppCredentials {
  /** A system-user access token with whatsapp_business_messaging. */
  accessToken: string;
  /** The business phone number's id (the `{phone-number-id}` of POST /{phone-number-id}/messages). */
  phoneNumberId: string;
  /** The Meta app secret: webhooks are signed with it (X-Hub-Signature-256). */
  appSecret: string;
  /** The token Meta echoes in the webhook verification handshake (hub.verify_token). */
  verifyToken: string;
}

export interface SmsRuCredentials {
  /** SMS.ru's api_id. */
  apiId: string;
  /** SMS.ru callbacks carry no signature: this secret is part of the callback URL registered there. */
  callbackToken: string;
}

export interface CredentialsByProvider {
  whatsapp: WhatsAppCredentials;
  smsru: SmsRuCredentials;
}
export type MessageProvider = keyof CredentialsByProvider;

const REQUIRED: { [P in MessageProvider]: (keyof CredentialsByProvider[P])[] } = {
  whatsapp: ['accessToken', 'phoneNumberId', 'appSecret', 'verifyToken'],
  smsru: ['apiId', 'callbackToken'],
};
export const MESSAGE_PROVIDERS = Object.keys(REQUIRED) as MessageProvider[];

const context = (provider: MessageProvider) => `message-provider:${provider}:credentials`;
const CACHE_MS = 5_000;

/** What is wrong with a credentials object for `provider`; [] when it is complete. */
export function credentialProblems(provider: string, value: unknown): string[] {
  if (!MESSAGE_PROVIDERS.includes(provider as MessageProvider))
    return [`provider must be one of ${MESSAGE_PROVIDERS.join(', ')}`];
  if (typeof value !== 'object' || value === null) return ['credentials must be a JSON object'];
  return (REQUIRED[provider as MessageProvider] as string[])
    .filter(
      (k) =>
        typeof (value as Record<string, unknown>)[k] !== 'string' ||
        (value as Record<string, string>)[k] === '',
    )
    .map((k) => `${k} is required (a non-empty string)`);
}

/**
 * Switchboard's own credentials at WhatsApp and the SMS gateway: one row per provider, the JSON sealed under the
 * keyring with the provider in the AAD. Read through a short cache (webhooks verify every call with them).
 */
@Injectable()
export class ProviderCredentials {
  private readonly cache = new Map<MessageProvider, { at: number; value: unknown }>();

  constructor(
    private readonly db: NotificationsDb,
    private readonly box: SecretBox,
  ) {}

  async get<P extends MessageProvider>(provider: P): Promise<CredentialsByProvider[P] | null> {
    const hit = this.cache.get(provider);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value as CredentialsByProvider[P] | null;
    const rows = await this.db.query<{ sealed: string }>(
      `SELECT sealed FROM message_provider_credentials WHERE provider = $1`,
      [provider],
    );
    const value = rows[0]
      ? (JSON.parse(this.box.openString(rows[0].sealed, context(provider))) as CredentialsByProvider[P])
      : null;
    this.cache.set(provider, { at: Date.now(), value });
    return value;
  }

  /** Stores (or replaces) a provider's credentials, sealed. */
  static async set(sql: Sql, box: SecretBox, provider: MessageProvider, value: object): Promise<void> {
    await sql.query(
      `INSERT INTO message_provider_credentials (provider, sealed) VALUES ($1, $2)
       ON CONFLICT (provider) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()`,
      [provider, box.seal(JSON.stringify(value), context(provider))],
    );
  }

  static async remove(sql: Sql, provider: MessageProvider): Promise<boolean> {
    const rows = await sql.query(
      `DELETE FROM message_provider_credentials WHERE provider = $1 RETURNING provider`,
      [provider],
    );
    return rows.length > 0;
  }
}
