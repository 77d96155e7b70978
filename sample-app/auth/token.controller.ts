import { Body, Controller, Header, Headers, HttpCode, Post, UseFilters } from '@nestjs/common';
import { Public } from 'nest-tessera';
import { OAuthErrorFilter } from './oauth-error.js';
import { parseTokenRequest } from './token-requests.js';
import { TokenService, type TokenResponse } from './token.service.js';

/** The OAuth token endpoint, `POST /auth/token` (RFC 6749 §3.2), form or JSON. */
@Public()
@Controller('auth')
@UseFilters(OAuthErrorFilter)
export class TokenController {
  constructor(private readonly tokens: TokenService) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  token(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<TokenResponse> {
    return this.tokens.clientCredentials(parseTokenRequest(body, authorization));
  }
}
