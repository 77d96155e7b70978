import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import {
  currentContext,
  runInContext,
  type CallContext,
  type DeniedListener,
} from '../authorization/principal-context.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import type { Principal } from '../verify/principal.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { messagePrincipalOf } from './message-token.js';
import { isContextOf, principalOf } from './request-state.js';

/**
 * Runs each message handler (and WebSocket or other non-HTTP handler) inside a call context
 * with the caller the guard verified, from the subscription on, so the observable a handler
 * returns runs in it too. An HTTP request already has one (`CallContextMiddleware`).
 */
@Injectable()
export class PrincipalContextInterceptor implements NestInterceptor {
  private readonly onDenied: DeniedListener;

  constructor(@Inject(AUTH_OPTIONS) options: ResolvedAuthOptions) {
    this.onDenied = (event) => options.events.accessDenied?.(event);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType();
    const request = type === 'http' ? context.switchToHttp().getRequest<object>() : undefined;
    if (request !== undefined && isContextOf(currentContext(), request)) return next.handle();
    const principal =
      request !== undefined
        ? principalOf(request)
        : type === 'rpc'
          ? messagePrincipalOf(context.switchToRpc().getContext<unknown>())
          : undefined;
    const callContext: CallContext = {
      identity: principal === undefined ? undefined : identityOf(principal),
      onDenied: this.onDenied,
      closed: false,
    };
    return new Observable((subscriber) =>
      runInContext(callContext, () => next.handle().subscribe(subscriber)),
    );
  }
}

function identityOf(principal: Principal) {
  return { principal, crossTenant: false };
}
