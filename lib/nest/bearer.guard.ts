import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { assertScopes } from '../authorization/scopes.js';
import { MissingTokenError } from '../errors/auth-errors.js';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options.js';
import { extractToken, type CredentialCarrier } from '../verify/extract-token.js';
import type { Principal } from '../verify/principal.js';
import { TokenVerifier } from '../verify/token-verifier.js';
import { AUTH_OPTIONS } from './auth.module-definition.js';
import { PublicRoute } from './public.decorator.js';
import { principalOf, setPrincipal } from './request-state.js';
import { RequiredScopes } from './scopes.decorator.js';

/**
 * Authenticates HTTP requests by their bearer token and enforces `@Scopes()`. Registered for
 * every route when `globalGuard` is on; otherwise use `@UseGuards(BearerGuard)`.
 */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly verifier: TokenVerifier,
    @Inject(AUTH_OPTIONS) protected readonly options: ResolvedAuthOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride(PublicRoute, targets)) return true;
    const request = context.switchToHttp().getRequest<CredentialCarrier & object>();
    const principal = principalOf(request) ?? (await this.authenticate(request));
    const required = this.reflector.getAllAndOverride(RequiredScopes, targets);
    if (required !== undefined) this.authorize(principal, required);
    return true;
  }

  /** Finds and verifies the request's token, and records the principal on the request. */
  protected async authenticate(request: CredentialCarrier & object): Promise<Principal> {
    const token = extractToken(request, this.options.tokenSources);
    if (token === undefined) throw new MissingTokenError();
    const principal = await this.verifier.verify(token);
    setPrincipal(request, principal);
    return principal;
  }

  /** Enforces the route's required scopes. */
  protected authorize(principal: Principal, required: readonly string[]): void {
    assertScopes(principal, required);
  }
}

/** The guard as registered globally: a no-op when `globalGuard` is off. */
@Injectable()
export class GlobalBearerGuard implements CanActivate {
  constructor(
    private readonly guard: BearerGuard,
    @Inject(AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
  ) {}

  canActivate(context: ExecutionContext): Promise<boolean> | boolean {
    return this.options.globalGuard ? this.guard.canActivate(context) : true;
  }
}
