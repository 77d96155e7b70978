import { Inject, Injectable, type OnModuleInit, Optional } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { RequestAuthenticator } from '../authentication/request-authenticator.js';
import { AuthConfigError, AuthError, InvalidRequestError } from '../errors/auth-errors.js';
import type { CredentialCarrier } from '../verify/extract-token.js';
import type { AccessTokenClaims, Principal } from '../verify/principal.js';
import { notePassportBridge } from './passport-challenge.filter.js';
import { principalOf, setPassportFailure, setPrincipal } from './request-state.js';

/**
 * Finds the token in a request, as passport-jwt's `jwtFromRequest`: any of passport-jwt's
 * `ExtractJwt.*` extractors, or a function of your own. `null` or `undefined` when there is none.
 */
// `any`, as passport-jwt's own type: the request is Express's or Fastify's, and an extractor
// typed for either (passport-jwt's are typed for Express's) must be accepted.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JwtFromRequest = (request: any) => string | null | undefined;

/** Options of `TesseraJwtStrategy` and `JwtPassportStrategy`, given to `super()` in a subclass. */
export interface JwtPassportStrategyOptions {
  /**
   * Where the token is, as passport-jwt's option of that name, e.g.
   * `ExtractJwt.fromExtractors([cookieExtractor])`. A token in the URL's query string is refused
   * all the same (400 `invalid_request`): any of the module's
   * `tokenSources.forbiddenQueryParameters`, and the token found anywhere in the decoded query
   * string (a parameter's value or name, whole or inside a longer one). The verifier's rules (size
   * limit first) apply to whatever it finds; an extractor that throws refuses the token as
   * `malformed` (401).
   * @default the module's token sources: `Authorization: Bearer`, and `tokenSources`
   */
  readonly jwtFromRequest?: JwtFromRequest;
  /**
   * Calls `validate(request, payload, principal)` instead of `validate(payload, principal)`, as
   * passport-jwt's option of that name.
   * @default false
   */
  readonly passReqToCallback?: boolean;
}

/** Passport's `verified` callback: an error, or the user (falsy: refused) and its info. */
type Verified = (error: unknown, user?: unknown, info?: unknown) => void;

/** `validate`, as `PassportStrategy` wraps it: its arguments, then `verified`. */
type Verify = (...args: unknown[]) => unknown;

/**
 * The verifier as a Passport strategy class, for `PassportStrategy(TesseraJwtStrategy, name)`
 * where passport-jwt's code had `PassportStrategy(Strategy, name)`: the module's verifier,
 * revocation check included, with passport-jwt's conduct (`validate(payload, principal)`, falsy
 * refuses; failures reported with their reason). Options go to `super()`; the subclass must be a
 * Nest provider (the verifier is injected). `JwtPassportStrategy` is the ready-made `jwt` one.
 */
export class TesseraJwtStrategy extends passport.Strategy implements OnModuleInit {
  /** @internal The module's authenticator, injected by Nest once the strategy is built. */
  @Inject(RequestAuthenticator)
  protected readonly authenticator!: RequestAuthenticator;

  /** @internal */
  protected readonly options: JwtPassportStrategyOptions;
  private readonly verify: Verify;

  /** `verify` is `validate` as `PassportStrategy` wraps it; options go to `super()`. */
  constructor(verify: (...args: unknown[]) => unknown);
  constructor(
    options: JwtPassportStrategyOptions | undefined,
    verify: (...args: unknown[]) => unknown,
  );
  constructor(
    ...args: [verify: Verify] | [options: JwtPassportStrategyOptions | undefined, verify: Verify]
  ) {
    super();
    notePassportBridge();
    this.options = args.length === 1 ? {} : (args[0] ?? {});
    this.verify = args.length === 1 ? args[0] : args[1];
  }

  /**
   * Stops start-up when the strategy was built without Nest's injection (`new` in a
   * `useFactory`): it could verify nothing. A factory builds it with `moduleRef.create(…)`.
   */
  onModuleInit(): void {
    if (this.authenticator === undefined) {
      throw new AuthConfigError(
        `${this.constructor.name} was built outside Nest's injection: register the class as a ` +
          'provider, or build it with moduleRef.create() in a factory',
      );
    }
  }

  /**
   * As passport-jwt's: a request it cannot authenticate fails (`fail(info, 401)`, the info an
   * `AuthError` whose `reason` says why), so `handleRequest` sees the info and a chain of
   * strategies tries the next one; `error()` is for faults of the server, and for a malformed
   * request (a token in the URL, two tokens: 400), refused whichever strategy comes next.
   */
  override authenticate(request: object): void {
    Promise.resolve()
      .then(() => this.principalOf(request as CredentialCarrier & object))
      .then(
        (principal) => this.validated(request, principal),
        (error: unknown) => this.refused(request, error),
      );
  }

  private principalOf(request: CredentialCarrier & object) {
    const extract = this.options.jwtFromRequest;
    return extract === undefined
      ? this.authenticator.authenticate(request)
      : this.authenticator.authenticateWith(request, extract);
  }

  private validated(request: object, principal: Principal): void {
    // The global bearer guard checked `@Scopes()` against the principal it recorded: a second
    // token (another extractor's) must not change who the request is after that check.
    const recorded = principalOf(request);
    if (recorded !== undefined && !sameToken(recorded, principal)) {
      return this.refused(request, new InvalidRequestError('multiple_tokens'));
    }
    const verified: Verified = (error, user, info) => {
      if (error) return this.error(error);
      if (!user) return this.failed(request, info);
      // Only a principal the application accepted is the request's: a refused one must not
      // reach `@CurrentPrincipal()`, `@Tenant()` or scopes when another strategy authenticates.
      setPrincipal(request, principal);
      this.success(user as Express.User, info as object | undefined);
    };
    // A fresh copy per call, as passport-jwt parses one: the principal's claims are frozen and
    // cached across requests, and `validate` may add to what it is given (`payload.userId = …`).
    const payload: AccessTokenClaims = structuredClone(principal.claims);
    try {
      if (this.options.passReqToCallback) this.verify(request, payload, principal, verified);
      else this.verify(payload, principal, verified);
    } catch (error) {
      this.error(error);
    }
  }

  private refused(request: object, error: unknown): void {
    if (error instanceof AuthError && error.status === 401) return this.failed(request, error);
    this.error(error);
  }

  /** A failure, recorded so that the module's filter answers the refusal it leads to. */
  private failed(request: object, info: unknown): void {
    if (info instanceof AuthError) setPassportFailure(request, info);
    this.fail(info as object | undefined, 401);
  }
}

function sameToken(a: Principal, b: Principal): boolean {
  return a === b || (a.issuer === b.issuer && a.tokenId === b.tokenId);
}

/**
 * The verifier as Passport strategy `jwt`, for code that uses `@UseGuards(AuthGuard('jwt'))`
 * from `@nestjs/passport` (migrating from passport-jwt). Add it, or a subclass, to a module's
 * providers. As with passport-jwt, `validate(payload, principal)` receives the verified claims
 * (and the `Principal` made of them) and returns `request.user`; a falsy result fails
 * authentication, a throw is an error. Options go to `super()` in a subclass's constructor.
 * @example
 * ```ts
 * @Injectable()
 * export class JwtStrategy extends JwtPassportStrategy {
 *   constructor() {
 *     super({ jwtFromRequest: ExtractJwt.fromExtractors([(req) => req.cookies?.access_token]) });
 *   }
 *   validate(payload: AccessTokenClaims) {
 *     return { userId: payload.sub, tenant: payload.tid };
 *   }
 * }
 * ```
 */
@Injectable()
export class JwtPassportStrategy extends PassportStrategy(TesseraJwtStrategy, 'jwt') {
  constructor(@Optional() options?: JwtPassportStrategyOptions) {
    super(options ?? {});
  }

  /**
   * What `request.user` becomes, called as `validate(payload, principal)` (with
   * `passReqToCallback`, `validate(request, payload, principal)`): the verified claims and the
   * `Principal` made of them. Returns the `Principal` unless overridden; return `payload` for
   * passport-jwt's shape. May be async; a falsy result refuses the request (401), a throw is an
   * error.
   */
  validate(...args: unknown[]): unknown {
    return args[this.options.passReqToCallback ? 2 : 1];
  }
}
