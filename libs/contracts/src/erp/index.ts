export * from './common';
export * from './catalog';
export * from './documents';
export * from './registry';
