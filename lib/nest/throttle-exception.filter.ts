import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TooManyRequestsError } from '../errors/too-many-requests.error.js';
import { setRejection } from './request-state.js';

/** Answers a throttled request: 429 with `Retry-After` in whole seconds. */
@Catch(TooManyRequestsError)
export class ThrottleExceptionFilter implements ExceptionFilter<TooManyRequestsError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: TooManyRequestsError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    setRejection(http.getRequest<object>(), error);
    const adapter = this.adapterHost.httpAdapter;
    const response = http.getResponse<unknown>();
    adapter.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
    adapter.reply(response, { statusCode: 429, message: 'Too Many Requests' }, 429);
  }
}
