import { Global, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '@switchboard/config';
import type { ReadinessProbe } from '@switchboard/observability';
import { DataSource } from 'typeorm';
import { dataSourceOptions, migrate } from './data-source';
import { BatchingInbox } from './batching-inbox';
import { Inbox } from './inbox';

@Injectable()
export class DatabaseProbe implements ReadinessProbe {
  readonly name = 'database';
  constructor(private readonly ds: DataSource) {}
  async check(): Promise<boolean> {
    await this.ds.query('SELECT 1');
    return true;
  }
}

@Injectable()
class Migrator implements OnModuleInit {
  private readonly logger = new Logger('Migrations');
  constructor(private readonly ds: DataSource) {}
  async onModuleInit(): Promise<void> {
    const ran = await migrate(this.ds);
    if (ran.length) this.logger.log(`applied migrations: ${ran.join(', ')}`);
  }
}

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database.url, config.database.poolSize, process.title),
        // Keep trying at start: the DB may come up after us (compose, local stack).
        retryAttempts: 30,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [DatabaseProbe, Migrator, Inbox, BatchingInbox],
  exports: [DatabaseProbe, Inbox, BatchingInbox],
})
export class DatabaseModule {}
