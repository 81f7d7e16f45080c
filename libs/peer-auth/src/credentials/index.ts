export * from './token';
export * from './hasher';
export * from './policy';
