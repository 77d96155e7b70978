import { Reflector } from '@nestjs/core';
import { AuthConfigError } from '../errors/auth-errors.js';
import { securingDecorator, type SecuringDecorator } from './secure.decorator.js';

/** Metadata set by `@Scopes()`: every listed scope is required. */
export const RequiredScopes = Reflector.createDecorator<readonly string[]>();

/**
 * A scope a token can hold: a non-empty string without spaces (RFC 6749 §3.3 separates scopes
 * by spaces, so `'a b'` is two scopes and `''` none, and no token ever holds either as one).
 */
function isScopeToken(scope: unknown): boolean {
  return typeof scope === 'string' && scope !== '' && !/\s/.test(scope);
}

/**
 * Requires every listed scope. On a route it overrides its controller's; on a service method
 * (or class) every call is checked against the caller, however the method is reached.
 * @example @Scopes('orders:read') @Get() list() {}
 */
export const Scopes = (...scopes: string[]): SecuringDecorator => {
  if (!scopes.every(isScopeToken)) {
    throw new AuthConfigError('@Scopes() takes scopes, each a non-empty string without spaces');
  }
  return securingDecorator('@Scopes', { scopes }, { key: RequiredScopes.KEY, value: scopes });
};

/** Metadata set by `@AnyScope()`: one of the listed scopes is required. */
export const AnyOfScopes = Reflector.createDecorator<readonly string[]>();

/**
 * Requires at least one of the listed scopes; beside `@Scopes` both hold. Placed like `@Scopes`
 * (a route overrides its controller's, a service method or class is checked on every call); a
 * refusal is a 403 `insufficient_scope` whose `scope="…"` lists the alternatives.
 * @example @AnyScope('orders:read', 'orders:admin') @Get() list() {}
 */
export const AnyScope = (...scopes: string[]): SecuringDecorator => {
  if (scopes.length === 0 || !scopes.every(isScopeToken)) {
    // One of none can never hold: a route that answers no one is a mistake, not a rule.
    throw new AuthConfigError(
      '@AnyScope() needs at least one scope, each a non-empty string without spaces',
    );
  }
  const anyScopes = Object.freeze([...scopes]);
  return securingDecorator('@AnyScope', { anyScopes }, { key: AnyOfScopes.KEY, value: anyScopes });
};
