export * from './model';
export * from './scopes';
export * from './ip-allowlist';
export * from './sql';
export * from './peer.dto';
export * from './peer-admin';
