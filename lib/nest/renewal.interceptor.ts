import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { mergeMap, type Observable } from 'rxjs';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import type { RenewalCoordinator } from '../renewal/renewal-coordinator.js';
import { extractToken, type CredentialCarrier } from '../verify/extract-token.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { principalOf } from './request-state.js';

/** Injection token of the module's `RenewalCoordinator` (`null` when renewal is off). */
export const RENEWAL_COORDINATOR = Symbol('RenewalCoordinator');

const LATE = Symbol('late');

/**
 * Sliding renewal: for a valid token with less than the window left, a renewal starts alongside
 * the handler; a successful (2xx) answer carries the new token in the renewal header if it is ready
 * by then, or within the small budget after. Best effort: the answer is never held back longer,
 * and a failed renewal is counted, never turned into an error.
 */
@Injectable()
export class RenewalInterceptor implements NestInterceptor {
  constructor(
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
    private readonly adapterHost: HttpAdapterHost,
    @Optional()
    @Inject(RENEWAL_COORDINATOR)
    private readonly coordinator: RenewalCoordinator | null,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const renewal = this.options.renewal;
    if (!this.coordinator || !renewal || context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<CredentialCarrier & object>();
    const principal = principalOf(request);
    if (principal === undefined || !this.coordinator.due(principal)) return next.handle();
    let token: string | undefined;
    try {
      token = extractToken(request, this.options.tokenSources);
    } catch {
      return next.handle();
    }
    if (token === undefined) return next.handle();
    const renewed = this.coordinator.renew(token, principal);
    const response = context.switchToHttp().getResponse<{ statusCode?: number }>();
    return next.handle().pipe(
      mergeMap(async (body: unknown) => {
        const result = await withinBudget(renewed, renewal.budgetMs);
        if (result === LATE) {
          this.options.events.tokenRenewed?.({ result: 'timeout' });
        } else if (result !== undefined && isSuccess(response.statusCode)) {
          this.adapterHost.httpAdapter.setHeader(response, renewal.header, result);
          this.options.events.tokenRenewed?.({ result: 'renewed' });
        }
        return body;
      }),
    );
  }
}

function isSuccess(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}

function withinBudget<T>(promise: Promise<T>, budgetMs: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(resolve, budgetMs, LATE)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
