/**
 * Errors of the secrets library. They carry a stable `code` and know nothing of HTTP. They never contain
 * key material or plaintext: key ids, entry positions and row ids only.
 */
export class SecretsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The master-key configuration is unusable (bad base64, wrong length, duplicate id, empty, ...). */
export class SecretsConfigError extends SecretsError {
  constructor(message: string) {
    super('SECRETS_CONFIG_INVALID', message);
  }
}

export type SecretDecryptCode = 'SECRET_KEY_MISSING' | 'SECRET_TAMPERED' | 'SECRET_MALFORMED';

export class SecretDecryptError extends SecretsError {
  constructor(
    override readonly code: SecretDecryptCode,
    message: string,
    /** For SECRET_KEY_MISSING: the key ids the operator has to restore. */
    readonly keyIds: string[] = [],
  ) {
    super(code, message);
  }
}
