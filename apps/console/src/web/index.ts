import { AccessLogPageController } from './access-log-page.controller';
import { CrmPagesController } from './crm-pages.controller';
import { DashboardPageController } from './dashboard.controller';
import { DashboardService } from './dashboard.service';
import { DeadLettersPageController } from './dead-letters-page.controller';
import { DeadLettersService } from './dead-letters.service';
import { LeadsPageController } from './leads-page.controller';
import { OperatorsPageController } from './operators-page.controller';
import { PeersPageController } from './peers-page.controller';
import { WebAssetsController } from './web-assets.controller';
import { WebErrorFilter } from './web-error.filter';
import { WebViews } from './web-views';

export { installWebConsole } from './web-install';

/** The web console's pages (apps/console/src/web), declared in ConsoleModule next to the API they reuse. */
export const WEB_CONTROLLERS = [
  WebAssetsController,
  DashboardPageController,
  PeersPageController,
  AccessLogPageController,
  DeadLettersPageController,
  LeadsPageController,
  CrmPagesController,
  OperatorsPageController,
];

export const WEB_PROVIDERS = [WebViews, WebErrorFilter, DashboardService, DeadLettersService];
