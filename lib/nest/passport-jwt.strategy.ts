import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { RequestAuthenticator } from '../authentication/request-authenticator.js';
import type { CredentialCarrier } from '../verify/extract-token.js';
import type { Principal } from '../verify/principal.js';
import { setPrincipal } from './request-state.js';

type Validate = (principal: Principal, done: (error: unknown, user?: unknown) => void) => void;

/** A Passport strategy over the `RequestAuthenticator`: the same checks as the bearer guard. */
export class AuthenticatorPassportStrategy extends passport.Strategy {
  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly onVerified: Validate,
  ) {
    super();
  }

  override authenticate(request: CredentialCarrier & object): void {
    Promise.resolve()
      .then(() => this.authenticator.authenticate(request))
      .then(
        (principal) => {
          // `validate` may map `request.user` to another object; `principalOf` keeps the principal.
          setPrincipal(request, principal);
          this.onVerified(principal, (error, user) =>
            error ? this.error(error) : this.success(user as Express.User),
          );
        },
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
export class JwtPassportStrategy extends PassportStrategy(AuthenticatorPassportStrategy, 'jwt') {
  /** @internal */
  constructor(authenticator: RequestAuthenticator) {
    super(authenticator);
  }

  validate(principal: Principal): unknown {
    return principal;
  }
}
