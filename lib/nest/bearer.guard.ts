import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RequestAuthenticator } from '../authentication/request-authenticator.js';
import { assertScopeRule } from '../authorization/scopes.js';
import { MissingTokenError } from '../errors/auth-errors.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import type { RiskTier } from '../revocation/risk-tier.js';
import type { CredentialCarrier } from '../verify/extract-token.js';
import type { Awaitable } from '../util/awaitable.js';
import type { Principal } from '../verify/principal.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { perRoute, type RouteTargets } from './per-route.js';
import { setMessagePrincipal, tokenFromMessage } from './message-token.js';
import { isPublicRoute } from './public.decorator.js';
import { setPrincipal, verifiedFor } from './request-state.js';
import { AnyOfScopes, RequiredScopes } from './scopes.decorator.js';
import { SensitiveRoute } from './sensitive.decorator.js';

interface RouteRules {
  readonly isPublic: boolean;
  readonly required: readonly string[] | undefined;
  /** `@AnyScope`: one of these, besides every one of `required`. */
  readonly anyOf: readonly string[] | undefined;
  readonly tier: RiskTier;
}

/** The key of the guard's synchronous check, which only this module can reach. */
const CHECK = Symbol('BearerGuard.check');

/**
 * Authenticates HTTP requests by their bearer token and enforces `@Scopes()` and `@AnyScope()`. Registered for
 * every route when `globalGuard` is on; otherwise use `@UseGuards(BearerGuard)`.
 */
@Injectable()
export class BearerGuard implements CanActivate {
  /** A route's rules, read once per route. */
  private readonly routeOf = perRoute((targets): RouteRules => {
    const required = this.reflector.getAllAndOverride(RequiredScopes, targets);
    const anyOf = this.reflector.getAllAndOverride(AnyOfScopes, targets);
    return {
      isPublic: isPublicRoute(this.reflector, targets, this.options.publicMetadataKey),
      required,
      anyOf,
      tier: this.riskTier(targets, [...(required ?? []), ...(anyOf ?? [])]),
    };
  });

  /** What this module's verifier made of the token earlier in the request; one function for all. */
  private readonly verifiedEarlier = (token: string, request: object): Principal | undefined =>
    verifiedFor(request, token, this.authenticator.verifier);

  /** @internal */
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: RequestAuthenticator,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
  ) {}

  /** Whether the request may go on: its token verified, unrevoked, with the route's scopes. */
  async canActivate(context: ExecutionContext): Promise<boolean> {
    return this[CHECK](context);
  }

  /**
   * @internal What `canActivate` answers, synchronously on the common path (a token the
   * verified-token cache answers for, a local revocation check): the global guard calls it so
   * that a request pays for no promise it does not need. A signature to check waits for the end
   * of the event loop's turn. Under a symbol of this module: no subclass member can replace it.
   */
  [CHECK](context: ExecutionContext): Awaitable<boolean> {
    const route = this.routeOf([context.getHandler(), context.getClass()]);
    if (route.isPublic) return true;
    const type = context.getType();
    if (type === 'rpc') return this.authenticateMessage(context, route);
    // WebSocket gateways, GraphQL resolvers: this guard reads no token there, so it refuses
    // rather than let a call through unauthenticated; mark such handlers `@Public()`.
    if (type !== 'http') throw new MissingTokenError();
    const request = context.getArgByIndex<CredentialCarrier & object>(0);
    const principal = this.authenticate(request, route.tier);
    // A cached token answers at once: no closure on the common path.
    if (principal instanceof Promise) return principal.then((p) => this.admitted(p, route));
    return this.admitted(principal, route);
  }

  private admitted(principal: Principal, route: RouteRules): true {
    if (route.required !== undefined || route.anyOf !== undefined) {
      this.authorize(principal, route.required ?? NO_SCOPES, route.anyOf);
    }
    return true;
  }

  /** @internal A message handler: the token travels in the message (`tokenFromMessage`). */
  protected async authenticateMessage(
    context: ExecutionContext,
    route: RouteRules,
  ): Promise<boolean> {
    const rpc = context.switchToRpc();
    const token = tokenFromMessage(rpc.getData<unknown>(), rpc.getContext<unknown>());
    if (token === undefined) throw new MissingTokenError();
    const principal = await this.authenticator.authenticateToken(token, route.tier);
    this.admitted(principal, route);
    setMessagePrincipal(rpc.getContext<object>(), principal);
    return true;
  }

  /** @internal Finds, verifies and revocation-checks the request's token; records it. */
  protected authenticate(
    request: CredentialCarrier & object,
    tier: RiskTier,
  ): Awaitable<Principal> {
    // A throttler guard that ran first (nest-tessera/throttler) verified the token already.
    const principal = this.authenticator.authenticate(request, tier, this.verifiedEarlier);
    if (principal instanceof Promise) return principal.then((p) => recorded(request, p));
    return recorded(request, principal);
  }

  /**
   * @internal Sensitive when `@Sensitive()` or it names a scope listed as sensitive (in
   * `@Scopes` or `@AnyScope`: a caller may reach it by that scope).
   */
  protected riskTier(targets: RouteTargets, required: readonly string[] | undefined): RiskTier {
    if (this.reflector.getAllAndOverride(SensitiveRoute, targets)) return 'sensitive';
    const sensitive = this.options.revocation ? this.options.revocation.sensitiveScopes : undefined;
    return sensitive && required?.some((scope) => sensitive.has(scope)) ? 'sensitive' : 'standard';
  }

  /** @internal Enforces the route's required scopes: all of `required`, one of `anyOf`. */
  protected authorize(
    principal: Principal,
    required: readonly string[],
    anyOf?: readonly string[],
  ): void {
    assertScopeRule(principal, required, anyOf);
  }
}

const NO_SCOPES: readonly string[] = Object.freeze([]);

function recorded(request: object, principal: Principal): Principal {
  setPrincipal(request, principal);
  return principal;
}

/** The guard as registered globally: a no-op when `globalGuard` is off. */
@Injectable()
export class GlobalBearerGuard implements CanActivate {
  /** Whether the guard given is a BearerGuard with its own canActivate. */
  private readonly own: boolean;

  constructor(
    private readonly guard: BearerGuard,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
  ) {
    this.own =
      guard instanceof BearerGuard && guard.canActivate === BearerGuard.prototype.canActivate;
  }

  /** Whether it authenticates every route (`globalGuard` on), or lets everything through. */
  get authenticates(): boolean {
    return this.options.globalGuard;
  }

  canActivate(context: ExecutionContext): Awaitable<boolean> {
    if (!this.options.globalGuard) return true;
    // The synchronous path is BearerGuard's own; a guard put in its place (a subclass, a test's
    // override of the provider) is asked through its canActivate, as Nest would.
    return this.own ? this.guard[CHECK](context) : this.guard.canActivate(context);
  }
}
