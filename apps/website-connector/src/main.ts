import 'reflect-metadata';
import { runConnector } from '@switchboard/messaging';
import { WebsiteConnectorModule } from './website-connector.module';

runConnector('website-connector', WebsiteConnectorModule, (c) => c.websiteConnector, [
  'database',
  'amqp',
  'websiteConnector',
  'crm',
  'log',
]).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
