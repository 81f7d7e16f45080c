export {
  CLIENT_KEYS_ENV,
  CLIENT_KEYS_FILE_ENV,
  CREDENTIAL_FILE_VERSION,
  CredentialStore,
  CredentialStoreError,
  generateClientKey,
  loadClientKeyring,
  normalizeGatewayUrl,
  validatePeerId,
  writeFileAtomic,
} from './credential-store';
export type {
  CredentialFile,
  CredentialStoreErrorCode,
  CredentialStoreOptions,
  PeerCredentials,
  StoreFileSystem,
} from './credential-store';
export {
  checkGatewayTransport,
  parseExpiryHeader,
  PeerClient,
  PeerClientError,
  redactTokens,
} from './peer-client';
export type {
  CredentialStatus,
  PeerClientErrorDetails,
  PeerClientOptions,
  PeerResponse,
  RotationResult,
  SendOptions,
} from './peer-client';
