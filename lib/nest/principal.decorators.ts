import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { MissingTokenError } from '../errors/auth-errors.js';
import type { Principal } from '../verify/principal.js';
import { messagePrincipalOf } from './message-token.js';
import { principalOf } from './request-state.js';

/**
 * The verified caller of this request.
 * @example @Get() list(@CurrentPrincipal() principal: Principal) {}
 */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext) =>
  requestPrincipal(context),
);

/**
 * The principal the guard verified for this HTTP request or message (`@MessagePattern`,
 * `@EventPattern`); `MissingTokenError` without one.
 */
export function requestPrincipal(context: ExecutionContext): Principal {
  const principal =
    context.getType() === 'rpc'
      ? messagePrincipalOf(context.switchToRpc().getContext<unknown>())
      : principalOf(context.switchToHttp().getRequest<object>());
  if (principal === undefined) throw new MissingTokenError();
  return principal;
}
