import {
  Body,
  Controller,
  Header,
  Headers,
  HttpCode,
  Inject,
  Ip,
  Optional,
  Post,
  Req,
  UseFilters,
} from '@nestjs/common';
import { DpopProofVerifier, Public, type DpopCarrier } from 'nest-tessera';
import { provenKey } from './dpop-binding.js';
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
    @Optional() @Inject(DpopProofVerifier) private readonly proofs: DpopProofVerifier | null,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  async token(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @Req() request: DpopCarrier,
  ): Promise<TokenResponse> {
    // Counted before anything is read: a flood is refused, whatever it sends, and the proofs it
    // makes the replay cache remember are bounded by the same limit.
    await this.limiter.admitIp(ip);
    const tokenRequest = parseTokenRequest(body, authorization);
    const jkt = await provenKey(this.proofs ?? null, request);
    return this.tokens.clientCredentials(tokenRequest, jkt);
  }
}
