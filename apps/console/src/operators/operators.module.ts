import { Global, Module } from '@nestjs/common';
import { AuthController } from './auth.controller';
import { OperatorAccounts } from './operator-accounts.service';
import { OperatorGuard } from './operator.guard';
import { OperatorSessions } from './operator-sessions.service';
import { OperatorsController } from './operators.controller';
import { OperatorsRepository } from './operators.repository';
import { PasswordHasher } from './password-hasher';
import { LoginPagesController } from './login-pages.controller';

/**
 * Operator accounts, sessions and roles. Global so that every console module's controllers (alerts, the web
 * console's pages) can use OperatorGuard without importing this module.
 */
@Global()
@Module({
  controllers: [AuthController, OperatorsController, LoginPagesController],
  providers: [OperatorGuard, OperatorsRepository, OperatorAccounts, OperatorSessions, PasswordHasher],
  exports: [OperatorGuard, OperatorsRepository, OperatorAccounts, OperatorSessions, PasswordHasher],
})
export class OperatorsModule {}
