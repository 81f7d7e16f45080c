export * from './errors';
export * from './envelope';
export * from './validation';
export * from './registry';
export * from './website/order-submitted';
export * from './website/lead-submitted';
export * from './telephony';
export * from './erp';
export { ERP_EVENT_TYPES, invoiceEventType, type ErpEventType } from './erp/registry';
