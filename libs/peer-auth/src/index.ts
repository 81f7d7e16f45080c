// Peer authentication: issued credentials (token format, peppered hashing, rotation policy), peers and their
// administration, the in-memory directory and authenticator the gateway uses, and provider-native signatures.
export * from './credentials';
export * from './signatures';
export * from './peers';
export * from './auth';
export * from './peer-security.module';
export * from './outbound';
