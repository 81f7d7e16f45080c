import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

export const OPERATOR_ROLES = ['admin', 'supervisor', 'manager', 'auditor'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** Who is calling the console: set on the request by OperatorGuard before any handler runs. */
export interface OperatorPrincipal {
  /** The operator's id; 'bootstrap' for the shared ADMIN_TOKEN (break-glass). */
  id: string;
  name: string;
  role: OperatorRole;
  /** A `manager` operator sees only rows whose responsible manager is this one. */
  managerId: string | null;
  via: 'session' | 'token' | 'admin-token';
  sessionId?: string;
}

export const ROLES_KEY = 'switchboard:operator-roles';
/** The roles allowed on a controller or handler; without it, any signed-in operator may call it. */
export const Roles = (...roles: OperatorRole[]) => SetMetadata(ROLES_KEY, roles);

export const CurrentOperator = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): OperatorPrincipal =>
    ctx.switchToHttp().getRequest<{ operator: OperatorPrincipal }>().operator,
);
