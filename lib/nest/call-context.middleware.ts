import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { runInContext, type CallContext } from '../authorization/principal-context.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';

/**
 * Opens each HTTP request's call context before anything else of Nest runs: guards,
 * interceptors, the handler (and the observable it returns) and exception filters all run
 * inside it, anonymous until the guard has verified the caller, so no part of a request is ever
 * taken for code running outside any request (where `@RunAs` lends its identity). The context
 * closes when the response does.
 */
@Injectable()
export class CallContextMiddleware implements NestMiddleware {
  private readonly onDenied: CallContext['onDenied'];

  constructor(@Inject(AUTH_OPTIONS) options: ResolvedAuthOptions) {
    this.onDenied = (event) => options.events.accessDenied?.(event);
  }

  use(request: object, response: ServerResponse, next: () => void): void {
    const context: CallContext = {
      identity: undefined,
      onDenied: this.onDenied,
      request,
      closed: false,
    };
    response.once('close', () => (context.closed = true));
    runInContext(context, next);
  }
}
