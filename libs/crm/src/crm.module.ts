import { Module } from '@nestjs/common';
import { ContactService } from './services/contact.service';
import { InvoiceRepository } from './erp/invoice.repository';
import { ProductRepository } from './erp/product.repository';

@Module({
  providers: [ContactService, ProductRepository, InvoiceRepository],
  exports: [ContactService, ProductRepository, InvoiceRepository],
})
export class CrmModule {}
