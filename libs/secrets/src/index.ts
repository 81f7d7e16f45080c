export { SecretsError, SecretsConfigError, SecretDecryptError } from './errors';
export type { SecretDecryptCode } from './errors';
export { Keyring, parseKeyring, loadKeyring, MASTER_KEYS_ENV, MASTER_KEYS_FILE_ENV } from './keyring';
export type { MasterKey } from './keyring';
export { SecretBox, rewrapAll, requireKeys } from './secret-box';
export type { SealedRow } from './secret-box';
