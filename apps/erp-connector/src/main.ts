import 'reflect-metadata';
import { isDatabaseUnavailable, waitForDatabase } from '@switchboard/database';
import { runConnector } from '@switchboard/messaging';
import { DataSource } from 'typeorm';
import { ERP_CONNECTOR_SECTIONS, ErpConnectorModule } from './erp-connector.module';

runConnector(
  'erp-connector',
  ErpConnectorModule,
  (c) => c.erpConnector,
  [...ERP_CONNECTOR_SECTIONS],
  (app) => ({
    isInfrastructureDown: isDatabaseUnavailable,
    waitForInfrastructure: () => waitForDatabase(app.get(DataSource)),
  }),
).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
