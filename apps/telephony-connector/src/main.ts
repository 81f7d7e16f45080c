import 'reflect-metadata';
import { isDatabaseUnavailable, waitForDatabase } from '@switchboard/database';
import { runConnector } from '@switchboard/messaging';
import { DataSource } from 'typeorm';
import { TELEPHONY_CONNECTOR_SECTIONS, TelephonyConnectorModule } from './telephony-connector.module';

runConnector(
  'telephony-connector',
  TelephonyConnectorModule,
  (c) => c.telephonyConnector,
  [...TELEPHONY_CONNECTOR_SECTIONS],
  (app) => ({
    isInfrastructureDown: isDatabaseUnavailable,
    waitForInfrastructure: () => waitForDatabase(app.get(DataSource)),
  }),
).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
