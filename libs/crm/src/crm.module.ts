import { Module } from '@nestjs/common';
import { ContactService } from './services/contact.service';

@Module({ providers: [ContactService], exports: [ContactService] })
export class CrmModule {}
