export * from './failure-tracker';
export * from './rate-limiter';
export * from './replay-cache';
export * from './directory';
export * from './authenticator';
