import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  type LoggerService,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RefreshRefusedError } from 'nest-tessera/issuer';
import { RevocationUnavailableError } from 'nest-tessera';
import { SessionStoreUnavailableError } from './auth-stores.js';
import { AUTH_SERVICE_LOGGER } from './auth-service.tokens.js';
import { clearedRefreshCookie } from './refresh-cookie.js';

/** Seconds a client is asked to wait before it tries again while Redis is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

type SessionError = RefreshRefusedError | SessionStoreUnavailableError | RevocationUnavailableError;

/**
 * Answers the session endpoints' failures. A refused refresh token is a 401 `invalid_grant` that
 * clears the cookie (the reason is for logs and metrics, which the session events carry). A store
 * that cannot be reached is a server outage: 503 with `Retry-After`, logged as an error; the
 * client's request was fine and may be sent again.
 */
@Catch(RefreshRefusedError, SessionStoreUnavailableError, RevocationUnavailableError)
export class SessionErrorFilter implements ExceptionFilter<SessionError> {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(AUTH_SERVICE_LOGGER) private readonly logger: LoggerService,
  ) {}

  catch(error: SessionError, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const http = host.switchToHttp();
    const response = http.getResponse<unknown>();
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    if (error instanceof RefreshRefusedError) {
      adapter.setHeader(response, 'Set-Cookie', clearedRefreshCookie());
      adapter.reply(response, { error: 'invalid_grant' }, 401);
      return;
    }
    this.logger.error('sessions unavailable: Redis cannot be reached', {
      event: 'store_unavailable',
      path: adapter.getRequestUrl(http.getRequest<unknown>()).split('?')[0],
      error: error.message,
    });
    adapter.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
    adapter.reply(response, { error: 'temporarily_unavailable' }, 503);
  }
}
