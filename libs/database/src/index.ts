export * from './data-source';
export * from './processed-event.entity';
export * from './inbox';
export * from './database.module';
export * from './unavailable';
export * from './batching-inbox';
