import { Module } from '@nestjs/common';
import { AssignmentService } from './services/assignment.service';
import { ContactService } from './services/contact.service';

@Module({ providers: [AssignmentService, ContactService], exports: [AssignmentService, ContactService] })
export class CrmModule {}
