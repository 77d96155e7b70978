import { InsufficientScopeError } from '../errors/auth-errors.js';
import type { Principal } from '../verify/principal.js';

/** Throws `InsufficientScopeError` unless the principal holds every required scope. */
export function assertScopes(principal: Principal, required: readonly string[]): void {
  // Checked without building the list of missing scopes: this runs on every guarded request.
  for (const scope of required) {
    if (!principal.scopes.includes(scope)) throw new InsufficientScopeError(required);
  }
}

/** Throws `InsufficientScopeError` naming the alternatives unless the principal holds one. */
export function assertAnyScope(principal: Principal, alternatives: readonly string[]): void {
  for (const scope of alternatives) if (principal.scopes.includes(scope)) return;
  throw new InsufficientScopeError(alternatives, 'missing_scope', true);
}

/** Both requirements of a rule: every scope of `all`, and one of `anyOf` when it lists any. */
export function assertScopeRule(
  principal: Principal,
  all: readonly string[],
  anyOf: readonly string[] | undefined,
): void {
  assertScopes(principal, all);
  if (anyOf !== undefined && anyOf.length > 0) assertAnyScope(principal, anyOf);
}

/** The principal's tenant; throws `InsufficientScopeError` for a token bound to no tenant. */
export function requireTenant(principal: Principal): string {
  if (principal.tenant === undefined) throw new InsufficientScopeError([], 'missing_tenant');
  return principal.tenant;
}
