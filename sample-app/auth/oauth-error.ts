import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** An RFC 6749 §5.2 error code of the token endpoint. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_dpop_proof';

/** A refused token request, answered as RFC 6749 §5.2 says by `OAuthErrorFilter`. */
export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description?: string,
    /** The `WWW-Authenticate` challenge, when the client authenticated with a header. */
    readonly challenge?: string,
  ) {
    super(`${code}${description ? `: ${description}` : ''}`);
    this.name = 'OAuthError';
  }

  /** 401 for a failed client authentication, 400 for everything else. */
  get status(): 400 | 401 {
    return this.code === 'invalid_client' ? 401 : 400;
  }
}

/** Writes an `OAuthError` as `{error, error_description}`, never cached. */
@Catch(OAuthError)
export class OAuthErrorFilter implements ExceptionFilter<OAuthError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: OAuthError, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse<unknown>();
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    adapter.setHeader(response, 'Pragma', 'no-cache');
    if (error.challenge !== undefined)
      adapter.setHeader(response, 'WWW-Authenticate', error.challenge);
    const body = {
      error: error.code,
      ...(error.description && { error_description: error.description }),
    };
    adapter.reply(response, body, error.status);
  }
}
