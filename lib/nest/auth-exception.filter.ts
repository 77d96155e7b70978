import { type ArgumentsHost, Catch, type ExceptionFilter, Inject, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { authChallenge, type DpopChallengeOptions } from '../dpop/dpop-challenge.js';
import { usesDpopScheme } from '../dpop/dpop-request.js';
import { AuthError, UseDpopNonceError } from '../errors/auth-errors.js';
import type { CredentialCarrier } from '../verify/extract-token.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { setRejection } from './request-state.js';

const MESSAGES = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden' } as const;

/**
 * The one place an `AuthError` becomes an HTTP answer (RFC 6750 §3): status, `WWW-Authenticate`,
 * and a body naming the RFC error code only; the reason goes to the log and the events.
 */
@Catch(AuthError)
export class AuthExceptionFilter implements ExceptionFilter<AuthError> {
  private readonly logger = new Logger('Tessera');
  private readonly dpop: DpopChallengeOptions | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
  ) {
    const dpop = options.dpop;
    this.dpop = dpop
      ? { algorithms: dpop.algorithms, requiredEverywhere: requiredOfEvery(dpop.required, options) }
      : undefined;
  }

  catch(error: AuthError, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') {
      // A message consumer answers its client with the same code, and never the reason.
      return throwError(() => ({ status: error.status, error: error.code ?? 'unauthorized' }));
    }
    if (host.getType() !== 'http') throw error;
    const http = host.switchToHttp();
    const request = http.getRequest<CredentialCarrier & object>();
    setRejection(request, error);
    this.options.events.requestRejected?.({ error });
    this.logger.debug?.(`${error.status} ${error.reason}`);
    const adapter = this.adapterHost.httpAdapter;
    const response = http.getResponse<unknown>();
    const viaDpop = this.dpop !== undefined && usesDpopScheme(request);
    adapter.setHeader(response, 'WWW-Authenticate', authChallenge(error, viaDpop, this.dpop));
    if (error instanceof UseDpopNonceError) adapter.setHeader(response, 'DPoP-Nonce', error.nonce);
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    const body = { statusCode: error.status, message: MESSAGES[error.status], error: error.code };
    adapter.reply(response, body, error.status);
  }
}

/**
 * Whether no bearer token is accepted at all: DPoP required of the whole application, or of each
 * of its trusted issuers by name.
 */
function requiredOfEvery(
  required: boolean | ReadonlySet<string>,
  options: ResolvedAuthOptions,
): boolean {
  if (typeof required === 'boolean') return required;
  return options.issuers.every((entry) => required.has(entry.issuer));
}
