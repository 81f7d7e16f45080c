import { Module } from '@nestjs/common';
import { ContactService } from './services/contact.service';
import { InvoiceRepository } from './erp/invoice.repository';
import { ProductRepository } from './erp/product.repository';
import { ErpReadRepository } from './erp/erp-read.repository';

@Module({
  providers: [ContactService, ProductRepository, InvoiceRepository, ErpReadRepository],
  exports: [ContactService, ProductRepository, InvoiceRepository, ErpReadRepository],
})
export class CrmModule {}
