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

export const SELF_SERVICE_KEY = 'switchboard:operator-self-service';
/**
 * An operator's own account routes (sign-out, password, two-factor, sessions, tokens): any role may call them,
 * auditors included, and before a pending password change or enrolment is done.
 */
export const SelfService = () => SetMetadata(SELF_SERVICE_KEY, true);

/** Rows a principal may see: a manager operator only its own (its managers row); everyone else all. */
export function rowScope(op: OperatorPrincipal | undefined): string | undefined {
  return op?.role === 'manager' ? (op.managerId ?? '00000000-0000-0000-0000-000000000000') : undefined;
}
