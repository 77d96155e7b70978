import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { runInContext, type DeniedListener } from '../authorization/principal-context.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import type { Principal } from '../verify/principal.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { messagePrincipalOf } from './message-token.js';
import { principalOf } from './request-state.js';

/**
 * Runs each handler inside the call context of its request or message, so service methods it
 * calls see the caller the guard verified. An anonymous call (a `@Public()` route) runs in a
 * context too, with no identity: it is refused by protected methods and never lent a `@RunAs`
 * identity.
 */
@Injectable()
export class PrincipalContextInterceptor implements NestInterceptor {
  private readonly onDenied: DeniedListener;

  constructor(@Inject(AUTH_OPTIONS) options: ResolvedAuthOptions) {
    this.onDenied = (event) => options.events.accessDenied?.(event);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const principal = this.principalOf(context);
    return runInContext(
      {
        identity: principal === undefined ? undefined : { principal, crossTenant: false },
        onDenied: this.onDenied,
      },
      () => next.handle(),
    );
  }

  private principalOf(context: ExecutionContext): Principal | undefined {
    const type = context.getType();
    if (type === 'http') return principalOf(context.switchToHttp().getRequest<object>());
    if (type === 'rpc') return messagePrincipalOf(context.switchToRpc().getContext<unknown>());
    return undefined;
  }
}
