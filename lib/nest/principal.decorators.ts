import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { MissingTokenError } from '../errors/auth-errors.js';
import { principalOf } from './request-state.js';

/**
 * The verified caller of this request.
 * @example @Get() list(@CurrentPrincipal() principal: Principal) {}
 */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const principal = principalOf(context.switchToHttp().getRequest<object>());
  if (principal === undefined) throw new MissingTokenError();
  return principal;
});
