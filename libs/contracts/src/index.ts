export * from './core';
export * from './registry';
export * from './website/order-submitted';
export * from './website/lead-submitted';
export * from './website/customer-updated';
export * from './telephony';
export * from './erp';
export * from './json-schema';
export type { AnyClass } from './compiled-validation';
