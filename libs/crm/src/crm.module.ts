import { Module } from '@nestjs/common';
import { InvoiceRepository } from './erp/invoice.repository';
import { ProductRepository } from './erp/product.repository';
import { ErpReadRepository } from './erp/erp-read.repository';
import { CallsRepository } from './repositories/calls.repository';
import { CrmChangesRepository } from './repositories/changes.repository';
import { CustomersRepository } from './repositories/customers.repository';
import { LoyaltyRepository } from './repositories/loyalty.repository';
import { DealStatusChanges } from './repositories/deal-status-changes';
import { ContactsRepository } from './repositories/contacts.repository';
import { DealsRepository } from './repositories/deals.repository';
import { LeadsRepository } from './repositories/leads.repository';
import { ManagersRepository } from './repositories/managers.repository';
import { TasksRepository } from './repositories/tasks.repository';
import { CardAssigner } from './services/card-assigner';
import { LeadIntake } from './services/lead-intake';

const REPOSITORIES = [
  ContactsRepository,
  LeadsRepository,
  DealsRepository,
  TasksRepository,
  ManagersRepository,
  CallsRepository,
  CrmChangesRepository,
  LoyaltyRepository,
  CustomersRepository,
  DealStatusChanges,
  LeadIntake,
  CardAssigner,
  ProductRepository,
  InvoiceRepository,
  ErpReadRepository,
];

@Module({ providers: REPOSITORIES, exports: REPOSITORIES })
export class CrmModule {}
