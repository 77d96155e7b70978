import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AttemptsUnavailableError } from './attempt-counter.js';
import { TooManyAttemptsError } from './login-limiter.js';
import { RETRY_AFTER_SECONDS } from './session-error.filter.js';

/**
 * Answers a refused attempt with 429 and `Retry-After` (RFC 6585 §4), whatever was sent; and an
 * attempt that could not be counted (Redis unreachable) with 503 and `Retry-After`: a guess that
 * cannot be counted is not checked.
 */
@Catch(TooManyAttemptsError, AttemptsUnavailableError)
export class TooManyAttemptsFilter implements ExceptionFilter<
  TooManyAttemptsError | AttemptsUnavailableError
> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: TooManyAttemptsError | AttemptsUnavailableError, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse<unknown>();
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    if (error instanceof AttemptsUnavailableError) {
      adapter.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
      adapter.reply(response, { error: 'temporarily_unavailable' }, 503);
      return;
    }
    adapter.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
    adapter.reply(response, { statusCode: 429, message: 'Too Many Requests' }, 429);
  }
}
