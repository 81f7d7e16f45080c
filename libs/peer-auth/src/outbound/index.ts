export * from './whsec';
export * from './outbound-endpoint.dto';
export * from './outbound-endpoints';
export * from './delivery-policy';
export * from './outbound-deliveries';
