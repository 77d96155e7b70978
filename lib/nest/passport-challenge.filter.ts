import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  UnauthorizedException,
} from '@nestjs/common';
import { FILTER_CATCH_EXCEPTIONS } from '@nestjs/common/constants.js';
import { type ApplicationConfig, BaseExceptionFilter, type HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { AuthError } from '../errors/auth-errors.js';
import type { AuthExceptionFilter } from './auth-exception.filter.js';
import { isPassportFailureOf, principalOf } from './request-state.js';

/** Whether any such strategy was built in this process: until one is, the filter takes nothing. */
let bridgeBuilt = false;

/** Called by each strategy of `nest-tessera/passport` when it is built. */
export function notePassportBridge(): void {
  bridgeBuilt = true;
}

/**
 * What `@nestjs/passport`'s default `handleRequest` throws when every strategy failed: an
 * `UnauthorizedException` with no response of its own. An application's own with a message, or
 * of any other class, is never taken.
 */
class DefaultUnauthorized {
  static [Symbol.hasInstance](value: unknown): boolean {
    if (!bridgeBuilt || !(value instanceof UnauthorizedException)) return false;
    const body = value.getResponse() as Record<string, unknown>;
    return (
      typeof body === 'object' &&
      Object.keys(body).length === 2 &&
      body.message === 'Unauthorized' &&
      body.statusCode === 401
    );
  }
}

/** What Nest's RPC exception filter answers for an exception that is not an `RpcException`. */
const RPC_UNKNOWN_ERROR = { status: 'error', message: 'Internal server error' } as const;

/**
 * Gives `AuthGuard()`'s refusal the RFC 6750 answer of the failure a strategy of this library
 * reported in the same request (passport puts it in `request.authInfo`): the same status,
 * `WWW-Authenticate` and body as the bearer guard's. It answers only an HTTP request whose
 * `authInfo` holds such a failure, recorded by the strategy for this request, with no principal
 * accepted. A Nest filter cannot decline an exception it was chosen for (one that throws leaves
 * the request to the HTTP server's error page): anything else goes to the filter Nest would have
 * chosen without this one (the application's global filters registered before it, a catch-all
 * one included), or gets Nest's default answer.
 */
@Catch(DefaultUnauthorized)
export class PassportChallengeFilter implements ExceptionFilter<UnauthorizedException> {
  /** Nest's own answer; made on first use, once the application has its HTTP adapter. */
  private fallback: BaseExceptionFilter | undefined;

  constructor(
    private readonly answer: AuthExceptionFilter,
    private readonly adapterHost: HttpAdapterHost,
    private readonly application: ApplicationConfig,
  ) {}

  catch(exception: UnauthorizedException, host: ArgumentsHost): unknown {
    const failure = host.getType() === 'http' ? this.failureOf(host) : undefined;
    if (failure !== undefined) return void this.answer.catch(failure, host);
    const next = this.nextFilter(exception);
    if (next !== undefined) return next.catch(exception, host);
    if (host.getType() === 'rpc') return rpcUnknownError();
    if (host.getType() !== 'http') throw exception;
    this.fallback ??= new BaseExceptionFilter(this.adapterHost.httpAdapter);
    this.fallback.catch(exception, host);
    return undefined;
  }

  /** The failure a strategy of this library reported for this request, if that is the refusal. */
  private failureOf(host: ArgumentsHost): AuthError | undefined {
    const request = host.switchToHttp().getRequest<{ authInfo?: unknown } | undefined>();
    if (request === undefined || principalOf(request) !== undefined) return undefined;
    const info = request.authInfo;
    const reported: unknown[] = Array.isArray(info) ? info : [info];
    return reported.find(
      (item): item is AuthError => item instanceof AuthError && isPassportFailureOf(request, item),
    );
  }

  /**
   * The global filter Nest would have chosen had this one not matched: Nest tries the last
   * registered first, so those registered before this one, in reverse, by their `@Catch()`.
   */
  private nextFilter(exception: unknown): ExceptionFilter | undefined {
    const filters = this.application.getGlobalFilters();
    const own = filters.indexOf(this);
    for (let index = own - 1; index >= 0; index--) {
      const filter = filters[index]!;
      if (catches(filter, exception)) return filter;
    }
    return undefined;
  }
}

function catches(filter: ExceptionFilter, exception: unknown): boolean {
  const types: unknown = Reflect.getMetadata(FILTER_CATCH_EXCEPTIONS, filter.constructor);
  if (!Array.isArray(types) || types.length === 0) return true;
  return types.some((type) => typeof type === 'function' && exception instanceof type);
}

function rpcUnknownError(): Observable<never> {
  return throwError(() => RPC_UNKNOWN_ERROR);
}
