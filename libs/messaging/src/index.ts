export * from './topology';
export * from './amqp-connection';
export * from './confirmed-publisher';
export * from './amqp-transport';
export * from './messaging.module';
export * from './run-connector';
export * from './dead-letters';
export * from './ack-coalescer';
