export * from './entities';
export * from './services/normalize';
export * from './services/contact.service';
export * from './services/rounds';
export * from './crm.module';
export * from './erp/product.repository';
export * from './erp/invoice.repository';
export * from './erp/erp-read.repository';
