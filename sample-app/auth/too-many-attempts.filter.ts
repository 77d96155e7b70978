import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TooManyAttemptsError } from './login-limiter.js';

/** Answers a refused attempt with 429 and `Retry-After` (RFC 6585 §4), whatever was sent. */
@Catch(TooManyAttemptsError)
export class TooManyAttemptsFilter implements ExceptionFilter<TooManyAttemptsError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: TooManyAttemptsError, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse<unknown>();
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
    adapter.reply(response, { statusCode: 429, message: 'Too Many Requests' }, 429);
  }
}
