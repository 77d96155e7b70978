import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { runAs } from '../authorization/principal-context.js';
import type { Principal } from '../verify/principal.js';
import { messagePrincipalOf } from './message-token.js';
import { principalOf } from './request-state.js';

/**
 * Runs each handler inside the principal context of its request or message, so service methods
 * it calls see the caller the guard verified.
 */
@Injectable()
export class PrincipalContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const principal = this.principalOf(context);
    return principal === undefined ? next.handle() : runAs(principal, () => next.handle());
  }

  private principalOf(context: ExecutionContext): Principal | undefined {
    if (context.getType() === 'http')
      return principalOf(context.switchToHttp().getRequest<object>());
    if (context.getType() === 'rpc') {
      const rpcContext = context.switchToRpc().getContext<unknown>();
      return typeof rpcContext === 'object' && rpcContext !== null
        ? messagePrincipalOf(rpcContext)
        : undefined;
    }
    return undefined;
  }
}
