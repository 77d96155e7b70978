import { randomUUID } from 'node:crypto';
import { AuthConfigError } from '../errors/auth-errors.js';
import type { AccessTokenClaims } from '../verify/principal.js';
import type { KeyRing } from './key-ring.js';

/** Configuration of a `TokenIssuer`. */
export interface TokenIssuerOptions {
  /** The `iss` of every token. */
  readonly issuer: string;
  /** The `aud` of every token. */
  readonly audience: string | readonly string[];
  readonly keyRing: KeyRing;
  /**
   * Lifetime of an access token, in seconds.
   * @default 900
   */
  readonly accessTokenTtlSeconds?: number;
  /** The clock, epoch seconds. @default () => Date.now() / 1000 */
  readonly now?: () => number;
}

/** Who an access token is for. */
export interface AccessTokenRequest {
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly clientId: string;
  readonly tenant?: string;
  readonly sessionId?: string;
  /** Epoch seconds the token may never outlive (a session's absolute limit). */
  readonly notAfter?: number;
  /**
   * The RFC 7638 thumbprint of the client's DPoP key: the token is bound to it (`cnf.jkt`,
   * RFC 9449 §6) and is accepted only with proofs by that key.
   */
  readonly jkt?: string;
}

/** A signed access token and what the token endpoint answers about it. */
export interface IssuedAccessToken {
  readonly token: string;
  readonly expiresIn: number;
  /** Its claims: an RFC 9068 token always has `aud`, `iat` and `jti`. */
  readonly claims: AccessTokenClaims & {
    readonly aud: string | readonly string[];
    readonly iat: number;
    readonly jti: string;
  };
}

/** Signs RFC 9068 access tokens (`typ: at+jwt`) with the key ring's active key. */
export class TokenIssuer {
  private readonly ttlSeconds: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenIssuerOptions) {
    this.ttlSeconds = options.accessTokenTtlSeconds ?? 900;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) {
      throw new AuthConfigError('accessTokenTtlSeconds must be a positive integer');
    }
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** The issuer identifier (`iss`). */
  get issuer(): string {
    return this.options.issuer;
  }

  issueAccessToken(request: AccessTokenRequest): IssuedAccessToken {
    const iat = Math.floor(this.now());
    const exp = Math.min(iat + this.ttlSeconds, Math.floor(request.notAfter ?? Infinity));
    if (exp <= iat) throw new RangeError('the session has reached its absolute limit');
    const claims: IssuedAccessToken['claims'] = {
      iss: this.options.issuer,
      sub: request.subject,
      aud: this.options.audience,
      exp,
      iat,
      jti: randomUUID(),
      ...(request.sessionId !== undefined && { sid: request.sessionId }),
      ...(request.tenant !== undefined && { tid: request.tenant }),
      scope: request.scopes.join(' '),
      client_id: request.clientId,
      ...(request.jkt !== undefined && { cnf: { jkt: request.jkt } }),
    };
    return { token: this.options.keyRing.sign(claims, 'at+jwt'), expiresIn: exp - iat, claims };
  }
}
