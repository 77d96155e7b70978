import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { requireTenant } from '../authorization/scopes.js';
import { MissingTokenError } from '../errors/auth-errors.js';
import type { Principal } from '../verify/principal.js';
import { principalOf } from './request-state.js';

function principalFrom(context: ExecutionContext): Principal {
  const principal = principalOf(context.switchToHttp().getRequest<object>());
  if (principal === undefined) throw new MissingTokenError();
  return principal;
}

/**
 * The verified caller of this request.
 * @example @Get() list(@CurrentPrincipal() principal: Principal) {}
 */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext) =>
  principalFrom(context),
);

/**
 * The caller's tenant (`tid`); a token bound to no tenant is refused with 403 `insufficient_scope`.
 * @example @Get() list(@Tenant() tenant: string) {}
 */
export const Tenant = createParamDecorator((_: unknown, context: ExecutionContext) =>
  requireTenant(principalFrom(context)),
);
