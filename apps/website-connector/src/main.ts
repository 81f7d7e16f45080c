import 'reflect-metadata';
import { isDatabaseUnavailable, waitForDatabase } from '@switchboard/database';
import { runConnector } from '@switchboard/messaging';
import { DataSource } from 'typeorm';
import { WebsiteConnectorModule } from './website-connector.module';

runConnector(
  'website-connector',
  WebsiteConnectorModule,
  (c) => c.websiteConnector,
  ['database', 'amqp', 'websiteConnector', 'crm', 'log'],
  (app) => ({
    isInfrastructureDown: isDatabaseUnavailable,
    waitForInfrastructure: () => waitForDatabase(app.get(DataSource)),
  }),
).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
