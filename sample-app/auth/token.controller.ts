import { Body, Controller, Header, Headers, HttpCode, Ip, Post, UseFilters } from '@nestjs/common';
import { Public } from 'nest-tessera';
import { OAuthErrorFilter } from './oauth-error.js';
import { LoginLimiter } from './login-limiter.js';
import { TooManyAttemptsFilter } from './too-many-attempts.filter.js';
import { parseTokenRequest } from './token-requests.js';
import { TokenService, type TokenResponse } from './token.service.js';

/** The OAuth token endpoint, `POST /auth/token` (RFC 6749 §3.2), form or JSON. */
@Public()
@Controller('auth')
@UseFilters(OAuthErrorFilter, TooManyAttemptsFilter)
export class TokenController {
  constructor(
    private readonly tokens: TokenService,
    private readonly limiter: LoginLimiter,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async token(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
  ): Promise<TokenResponse> {
    // Counted before anything is read: a flood is refused, whatever it sends.
    await this.limiter.admitIp(ip);
    return this.tokens.clientCredentials(parseTokenRequest(body, authorization));
  }
}
