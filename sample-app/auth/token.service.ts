import { Injectable } from '@nestjs/common';
import {
  SessionManager,
  TokenIssuer,
  type IssuedAccessToken,
  type TokenPair,
} from 'nest-tessera/issuer';
import { ClientDirectory, UserDirectory } from './accounts.js';
import { LoginLimiter } from './login-limiter.js';
import { OAuthError } from './oauth-error.js';
import type { ClientCredentialsRequest, LoginCredentials } from './token-requests.js';

/** The `client_id` of tokens issued to users at login: the sample app itself. */
export const SAMPLE_APP_CLIENT_ID = 'sample-app';

/** What the token endpoints answer (RFC 6749 §5.1). */
export interface TokenResponse {
  readonly access_token: string;
  /** `DPoP` for a token bound to the client's DPoP key (RFC 9449 §5.1). */
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  readonly scope?: string;
}

/** Issues access tokens to users (password login) and to service clients (client credentials). */
@Injectable()
export class TokenService {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly users: UserDirectory,
    private readonly clients: ClientDirectory,
    private readonly sessions: SessionManager,
    private readonly limiter: LoginLimiter,
  ) {}

  /**
   * A new session bound to the client's device, with its first access and refresh token;
   * `undefined` for bad credentials, whichever part. `TooManyAttemptsError`, before the password
   * is hashed, while this username's failures from the client IP (and the checks under way) fill
   * its limit. `jkt`, the thumbprint of the DPoP key the request proved: the session is bound
   * to it.
   */
  async login(
    { username, password, deviceId }: LoginCredentials,
    ip: string,
    jkt?: string,
  ): Promise<TokenPair | undefined> {
    const account = { username, ip };
    const place = await this.limiter.admitAccount(account);
    const user = await this.users.authenticate(username, password);
    await this.limiter.settle(place, user === undefined);
    if (user === undefined) return undefined;
    return this.sessions.login({
      subject: user.username,
      tenant: user.tenant,
      scopes: user.scopes,
      clientId: SAMPLE_APP_CLIENT_ID,
      deviceId,
      jkt,
    });
  }

  /**
   * RFC 6749 §4.4: a token for the client itself (`sub` = `client_id`), no session.
   * `TooManyAttemptsError`, before the secret is hashed, while the client's failures (and the
   * checks under way) fill its limit. `jkt`, the thumbprint of the DPoP key the request proved: the
   * token is bound to it.
   */
  async clientCredentials(request: ClientCredentialsRequest, jkt?: string): Promise<TokenResponse> {
    const account = { clientId: request.clientId };
    const place = await this.limiter.admitAccount(account);
    const client = await this.clients.authenticate(request.clientId, request.clientSecret);
    await this.limiter.settle(place, client === undefined);
    if (client === undefined) {
      // RFC 6749 §5.2: a client that authenticated with a header gets that scheme's challenge.
      throw new OAuthError(
        'invalid_client',
        undefined,
        request.basic ? 'Basic realm="tessera"' : undefined,
      );
    }
    const scopes = request.scopes ?? client.scopes;
    if (scopes.some((scope) => !client.scopes.includes(scope)))
      throw new OAuthError('invalid_scope');
    const issued = this.issuer.issueAccessToken({
      subject: client.clientId,
      tenant: client.tenant,
      scopes,
      clientId: client.clientId,
      jkt,
    });
    return { ...tokenResponse(issued), scope: scopes.join(' ') };
  }
}

/** The RFC 6749 §5.1 answer for an access token. */
export function tokenResponse(issued: IssuedAccessToken): TokenResponse {
  return {
    access_token: issued.token,
    token_type: issued.claims.cnf === undefined ? 'Bearer' : 'DPoP',
    expires_in: issued.expiresIn,
  };
}
