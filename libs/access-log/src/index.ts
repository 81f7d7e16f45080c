// The interface access log: one record per inbound or outbound call (libs/access-log/src/access-record.ts),
// buffered and batch-written off the request path, partitioned by day, maintained and expired in the console.
export * from './access-record';
export * from './access-log.sink';
export * from './access-log.writer';
export * from './outbound-http';
export * from './access-log.module';
export * from './claimed-peer';
export * from './body';
export * from './access-log.partitions';
export * from './access-log.maintenance';
