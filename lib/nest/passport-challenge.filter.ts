import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  UnauthorizedException,
} from '@nestjs/common';
import { BaseExceptionFilter, type HttpAdapterHost } from '@nestjs/core';
import { AuthError } from '../errors/auth-errors.js';
import type { AuthExceptionFilter } from './auth-exception.filter.js';

/**
 * Marks the class of a Passport strategy of this library (`nest-tessera/passport`), by which the
 * module knows to register the filter below without loading Passport itself.
 */
export const PASSPORT_BRIDGE = Symbol('tessera.passport-bridge');

/** Whether one of the application's providers is such a strategy. */
export function hasPassportBridge(metatypes: readonly unknown[]): boolean {
  return metatypes.some(
    (type) => typeof type === 'function' && (type as { [PASSPORT_BRIDGE]?: true })[PASSPORT_BRIDGE],
  );
}

/**
 * What `@nestjs/passport`'s default `handleRequest` throws when every strategy failed: an
 * `UnauthorizedException` with no message of its own. An application's own (with a message, or
 * any other class) is not this one.
 */
class PassportRefusal {
  static [Symbol.hasInstance](value: unknown): boolean {
    if (!(value instanceof UnauthorizedException)) return false;
    const body = value.getResponse() as Record<string, unknown>;
    return (
      typeof body === 'object' &&
      Object.keys(body).length === 2 &&
      body.message === 'Unauthorized' &&
      body.statusCode === 401
    );
  }
}

/**
 * Gives `AuthGuard('jwt')`'s refusal the RFC 6750 answer of the failure the strategy reported
 * (passport puts it in `request.authInfo`): the same status, `WWW-Authenticate` and body as the
 * bearer guard's. Any other such exception gets Nest's default answer.
 */
@Catch(PassportRefusal)
export class PassportChallengeFilter implements ExceptionFilter<UnauthorizedException> {
  /** Nest's own answer; made on first use, once the application has its HTTP adapter. */
  private fallback: BaseExceptionFilter | undefined;

  constructor(
    private readonly answer: AuthExceptionFilter,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(exception: UnauthorizedException, host: ArgumentsHost): void {
    const failure =
      host.getType() === 'http' ? strategyFailure(host.switchToHttp().getRequest()) : undefined;
    if (failure !== undefined) return void this.answer.catch(failure, host);
    this.fallback ??= new BaseExceptionFilter(this.adapterHost.httpAdapter);
    this.fallback.catch(exception, host);
  }
}

/** The first failure one of this library's strategies reported, alone or in a chain. */
function strategyFailure(request: { authInfo?: unknown } | undefined): AuthError | undefined {
  const info = request?.authInfo;
  const reported: unknown[] = Array.isArray(info) ? info : [info];
  return reported.find((item): item is AuthError => item instanceof AuthError);
}
