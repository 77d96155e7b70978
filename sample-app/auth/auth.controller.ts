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
  Res,
  UnauthorizedException,
  UnsupportedMediaTypeException,
  UseFilters,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  CurrentPrincipal,
  DpopProofVerifier,
  InvalidTokenError,
  Public,
  RevocationStore,
  RevocationUnavailableError,
  type DpopCarrier,
  type Principal,
} from 'nest-tessera';
import { RefreshRefusedError, SessionManager, type TokenPair } from 'nest-tessera/issuer';
import type { AuthServiceConfig } from '../config.js';
import { AUTH_SERVICE_CONFIG } from './auth-service.tokens.js';
import { LoginLimiter } from './login-limiter.js';
import { provenKey } from './dpop-binding.js';
import { OAuthErrorFilter } from './oauth-error.js';
import { refreshCookie } from './refresh-cookie.js';
import { SessionErrorFilter } from './session-error.filter.js';
import { TooManyAttemptsFilter } from './too-many-attempts.filter.js';
import { parseLoginCredentials, parseRefreshRequest } from './token-requests.js';
import { tokenResponse, TokenService, type TokenResponse } from './token.service.js';

/**
 * The user session endpoints under `/auth`: login opens a session, refresh rotates its refresh
 * token, renew re-issues a valid access token of a live session, logout ends it. Browsers get the
 * refresh token as an HttpOnly cookie scoped to `/auth`.
 */
@Controller('auth')
@UseFilters(SessionErrorFilter, TooManyAttemptsFilter, OAuthErrorFilter)
export class AuthController {
  constructor(
    private readonly tokens: TokenService,
    private readonly sessions: SessionManager,
    @Inject(RevocationStore) private readonly revocations: RevocationStore,
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly limiter: LoginLimiter,
    @Optional() @Inject(DpopProofVerifier) private readonly proofs: DpopProofVerifier | null,
  ) {}

  /**
   * `POST /auth/login` `{username, password, device_id?}`, as `application/json` only: a form
   * (or `text/plain`) post is what another site can make a browser send without asking, and
   * would log the victim into the attacker's account (login CSRF), so it gets 415 and no cookie.
   */
  @Public()
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async login(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Ip() ip: string,
    @Req() request: DpopCarrier,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    if (!isJson(contentType)) {
      throw new UnsupportedMediaTypeException('send the credentials as application/json');
    }
    // Counted before anything is read: a flood is refused, whatever it sends, and the proofs it
    // makes the replay cache remember are bounded by the same limit.
    await this.limiter.admitIp(ip);
    const credentials = parseLoginCredentials(body);
    // Before the password: an invalid proof gets no token, whatever the credentials.
    const jkt = await provenKey(this.proofs ?? null, request);
    const pair = await this.tokens.login(credentials, ip, jkt);
    // One answer for an unknown user and a wrong password.
    if (pair === undefined) throw new UnauthorizedException('invalid username or password');
    return this.answer(pair, response);
  }

  /** `POST /auth/refresh` with the refresh cookie or `{refresh_token}`, and `device_id`. */
  @Public()
  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async refresh(
    @Body() body: unknown,
    @Headers('cookie') cookies: string | undefined,
    @Ip() ip: string,
    @Req() request: DpopCarrier,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<TokenResponse> {
    await this.limiter.admitIp(ip);
    const { refreshToken, deviceId } = parseRefreshRequest(body, cookies);
    const jkt = await provenKey(this.proofs ?? null, request);
    if (refreshToken === undefined) throw new RefreshRefusedError('invalid');
    this.requireCurrentRevocations();
    return this.answer(await this.rotate(refreshToken, deviceId, jkt), response);
  }

  /**
   * `POST /auth/logout` with a bearer access token (checked by the module's global guard, like
   * any route that is not public): that token and its session are revoked.
   */
  @Post('logout')
  @HttpCode(204)
  async logout(@CurrentPrincipal() principal: Principal): Promise<void> {
    this.requireCurrentRevocations();
    await this.sessions.logout(principal);
  }

  /**
   * `POST /auth/renew` with a bearer access token (checked by the global guard): a new access
   * token of the same session, with the same `sub`, `tid`, `scope` and `sid`, a new `jti` and
   * `exp`, never past the session's absolute limit. This is what the orders service calls for
   * sliding renewal; a client may call it too.
   *
   * The revocation list is asked in Redis itself, not the local view (`SessionManager.renew`
   * does), so a renewal never outlives a logout or a detected reuse. While Redis cannot be asked
   * the answer is 503, not 401: the session has not ended, and the orders service tries again
   * later rather than remembering the token as not renewable. Not renewable (a token of no
   * session, such as a client's; a revoked token or session; a session at its limit): 401.
   */
  @Post('renew')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async renew(@CurrentPrincipal() principal: Principal): Promise<TokenResponse> {
    if (principal.sessionId === undefined) throw new InvalidTokenError('missing_claim');
    let renewed;
    try {
      renewed = await this.sessions.renew(principal);
    } catch (error) {
      // The session reaches its limit between the look-up and the signing: as if it had ended.
      if (!(error instanceof RangeError)) throw error;
    }
    if (renewed === undefined) throw new InvalidTokenError('revoked');
    return tokenResponse(renewed);
  }

  /**
   * Refuses to change sessions while the revocation list cannot be written: a logout or a detected
   * reuse must reach every verifier, and a request refused here changed nothing, so the client's
   * retry after the outage does the whole job.
   */
  private requireCurrentRevocations(): void {
    if (!this.revocations.isCurrent) {
      throw new RevocationUnavailableError('the revocation list is not reachable');
    }
  }

  private async rotate(
    refreshToken: string,
    deviceId: string | undefined,
    jkt: string | undefined,
  ): Promise<TokenPair> {
    try {
      return await this.sessions.refresh(refreshToken, deviceId, jkt);
    } catch (error) {
      // The session reached its absolute limit between the rotation and the signing of the new
      // access token (the issuer refuses a token with no time left): refused like an ended one.
      if (error instanceof RangeError) throw new RefreshRefusedError('invalid');
      throw error;
    }
  }

  private answer(pair: TokenPair, response: unknown): TokenResponse {
    // The cookie lives as long as the refresh token may: its TTL, never past the session's end.
    const sessionLeft = pair.session.expiresAt - Date.now() / 1000;
    const maxAge = Math.min(this.config.refreshTokenTtlSeconds, sessionLeft);
    this.adapterHost.httpAdapter.setHeader(
      response,
      'Set-Cookie',
      refreshCookie(pair.refreshToken, maxAge),
    );
    return tokenResponse(pair.access);
  }
}

/** Whether a `Content-Type` names JSON: `application/json`, with parameters or none, any case. */
function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';')[0].trim().toLowerCase() === 'application/json';
}
