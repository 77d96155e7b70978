import { Body, Controller, Header, HttpCode, Post, UnauthorizedException } from '@nestjs/common';
import { parseLoginCredentials } from './token-requests.js';
import { TokenService, type TokenResponse } from './token.service.js';

/**
 * The user session endpoints under `/auth`: login now; refresh, logout and renewal belong here
 * as they come.
 */
@Controller('auth')
export class AuthController {
  constructor(private readonly tokens: TokenService) {}

  /** `POST /auth/login` `{username, password, device_id?}`. */
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async login(@Body() body: unknown): Promise<TokenResponse> {
    const response = await this.tokens.login(parseLoginCredentials(body));
    // One answer for an unknown user and a wrong password.
    if (response === undefined) throw new UnauthorizedException('invalid username or password');
    return response;
  }
}
