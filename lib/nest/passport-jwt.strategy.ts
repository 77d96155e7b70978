import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { MissingTokenError } from '../errors/auth-errors.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { extractToken, type CredentialCarrier } from '../verify/extract-token.js';
import type { Principal } from '../verify/principal.js';
import { TokenVerifier } from '../verify/token-verifier.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';

type Validate = (principal: Principal, done: (error: unknown, user?: unknown) => void) => void;

/** A Passport strategy over `TokenVerifier`: the same checks as the bearer guard. */
export class VerifierPassportStrategy extends passport.Strategy {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly options: ResolvedAuthOptions,
    private readonly onVerified: Validate,
  ) {
    super();
  }

  override authenticate(request: CredentialCarrier & object): void {
    let token: string | undefined;
    try {
      token = extractToken(request, this.options.tokenSources);
    } catch (error) {
      return this.error(error);
    }
    if (token === undefined) return this.error(new MissingTokenError());
    this.verifier.verify(token).then(
      (principal) =>
        this.onVerified(principal, (error, user) =>
          error ? this.error(error) : this.success(user as Express.User),
        ),
      (error: unknown) => this.error(error),
    );
  }
}

/**
 * The verifier as Passport strategy `jwt`, for code that uses `@UseGuards(AuthGuard('jwt'))`
 * from `@nestjs/passport` (migrating from passport-jwt). Add it to a module's providers;
 * `request.user` is the `Principal`. Override `validate` to map it.
 */
@Injectable()
export class JwtPassportStrategy extends PassportStrategy(VerifierPassportStrategy, 'jwt') {
  constructor(verifier: TokenVerifier, @Inject(AUTH_OPTIONS) options: ResolvedAuthOptions) {
    super(verifier, options);
  }

  validate(principal: Principal): unknown {
    return principal;
  }
}
