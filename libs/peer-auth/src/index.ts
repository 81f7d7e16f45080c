// Peer authentication: Switchboard-issued credentials (token format, peppered hashing, rotation policy) and
// provider-native signature verification. Not wired into the gateway yet; PeerAuthGuard still uses static keys.
export * from './credentials';
export * from './signatures';
